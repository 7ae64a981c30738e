import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeTempDir, writeModelVersion, addConstantModel } from '@maas/test-support';
import { scanVersions } from '../src/version-scan.js';
import { selectVersions } from '../src/version-policy.js';

test('scanVersions finds numeric directories holding model.onnx', async () => {
  const base = makeTempDir();
  writeModelVersion(base, 1, addConstantModel(1));
  writeModelVersion(base, '00012', addConstantModel(12));
  mkdirSync(join(base, '7')); // no model file yet
  mkdirSync(join(base, 'tmp'));
  writeFileSync(join(base, 'README'), 'not a version');
  const versions = await scanVersions(base);
  assert.deepEqual([...versions.keys()].sort((a, b) => a - b), [1, 12]);
  assert.equal(versions.get(12), join(base, '00012', 'model.onnx'));
  assert.deepEqual([...(await scanVersions(join(base, 'missing'))).keys()], []);
});

test('selectVersions applies latest, all and specific policies', () => {
  const present = [3, 1, 10, 7];
  assert.deepEqual(selectVersions({ kind: 'latest', numVersions: 1 }, present), [10]);
  assert.deepEqual(selectVersions({ kind: 'latest', numVersions: 2 }, present), [10, 7]);
  assert.deepEqual(selectVersions({ kind: 'all' }, present), [10, 7, 3, 1]);
  assert.deepEqual(selectVersions({ kind: 'specific', versions: [1, 3, 42] }, present), [3, 1]);
});
