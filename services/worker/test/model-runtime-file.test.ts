import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultRuntimeOptions } from '@maas/onnx-runtime';
import { makeTempDir } from '@maas/test-support';
import { runtimeOptionsFor } from '../src/model-runtime-file.js';

test("a model's runtime.json overrides the worker's providers, threads and instances", async () => {
  const base = makeTempDir();
  const defaults = defaultRuntimeOptions(4);
  assert.deepEqual(await runtimeOptionsFor(base, defaults), defaults, 'no file: the defaults');
  writeFileSync(join(base, 'runtime.json'), JSON.stringify({ execution_providers: ['webgpu', 'cpu'], instances: 3 }));
  assert.deepEqual(await runtimeOptionsFor(base, defaults), { ...defaults, executionProviders: ['webgpu', 'cpu'], instances: 3 });
  writeFileSync(join(base, 'runtime.json'), '{ nope');
  await assert.rejects(runtimeOptionsFor(base, defaults), /runtime.json is not valid JSON/);
});
