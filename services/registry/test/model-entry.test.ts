import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelConfig, ModelServerConfig } from '@maas/protos';
import { ModelCatalog, entriesFromConfig } from '../src/index.js';

const config = (...models: Array<Partial<ModelConfig>>) =>
  ModelServerConfig.fromPartial({ modelConfigList: { config: models } });

test('policies, labels and defaults become catalogue entries', () => {
  const entries = entriesFromConfig(
    config(
      { name: 'a', basePath: '/models/a' },
      { name: 'b', basePath: '/models/b', modelVersionPolicy: { latest: { numVersions: 0 } } },
      { name: 'c', basePath: '/models/c', modelVersionPolicy: { all: {} } },
      { name: 'd', basePath: '/models/d', modelVersionPolicy: { specific: { versions: [42n, 43n] } }, versionLabels: { stable: 42n, canary: 43n } },
    ),
  );
  assert.deepEqual(entries.map((e) => e.policy), [
    { kind: 'latest', numVersions: 1 },
    { kind: 'latest', numVersions: 1 },
    { kind: 'all' },
    { kind: 'specific', versions: [42, 43] },
  ]);
  assert.deepEqual(entries[3]!.labels, { stable: 42, canary: 43 });
});

test('invalid configs are refused with TF Serving wording', () => {
  assert.throws(() => entriesFromConfig(ModelServerConfig.fromPartial({ customModelConfig: { typeUrl: 'x' } })), /Only ModelConfigList is currently supported/);
  assert.throws(() => entriesFromConfig(config({ name: 'a', basePath: '/a' }, { name: 'a', basePath: '/b' })), /Illegal to list model a multiple times in config list/);
  assert.throws(() => entriesFromConfig(config({ name: 'a', basePath: 'relative/a' })), /absolute path/);
  assert.throws(() => entriesFromConfig(config({ name: 'a', basePath: '/a', modelType: 1, modelPlatform: 'onnx' })), /model_type.*model_platform/);
});

test('the catalogue is replaced whole, and a bad config leaves the old one', () => {
  const catalog = new ModelCatalog(config({ name: 'a', basePath: '/a' }));
  assert.deepEqual(catalog.replace(config({ name: 'b', basePath: '/b' })).map((e) => e.name), ['b']);
  assert.throws(() => catalog.replace(config({ name: 'x', basePath: 'x' })));
  assert.deepEqual(catalog.list().map((e) => e.name), ['b']);
  assert.equal(catalog.get('b')?.basePath, '/b');
});
