import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addConstantModel, makeTempDir, writeModelVersion } from '@maas/test-support';
import { chooseProvider, defaultRuntimeOptions, OnnxModel, probeProviders, usableProviders } from '../src/index.js';

test('probing lists cpu as usable and explains every unusable provider', async () => {
  const probes = await probeProviders();
  assert.deepEqual(probes.find((p) => p.name === 'cpu'), { name: 'cpu', usable: true });
  for (const probe of probes.filter((p) => !p.usable)) assert.ok(probe.reason && probe.reason.length > 0, `${probe.name} says why`);
  const usable = await usableProviders();
  assert.equal(usable.at(-1), 'cpu', 'cpu comes last, as the fallback');
  assert.deepEqual(usable, probes.filter((p) => p.usable).map((p) => p.name).sort((a, b) => (a === 'cpu' ? 1 : b === 'cpu' ? -1 : 0)));
});

test('auto keeps a provider only when it is usable, and reports what the model runs on', async (t) => {
  const usable = await usableProviders();
  const choice = await chooseProvider(addConstantModel(1), defaultRuntimeOptions());
  assert.ok(usable.includes(choice[0]!), `chose a usable provider: ${choice}`);
  assert.equal(choice.at(-1), 'cpu');
  const file = writeModelVersion(makeTempDir(), 1, addConstantModel(1));
  const model = await OnnxModel.load(file, 'm:1', { ...defaultRuntimeOptions(), executionProviders: ['auto'] });
  assert.equal(model.provider, choice[0]);
  await model.release();
  if (usable.length === 1) t.diagnostic('no GPU provider is usable on this host: auto can only choose cpu here');
});
