import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import ort from 'onnxruntime-node';
import { DataType } from '@maas/protos';
import { ServingError } from '@maas/errors';
import { addConstantModel, makeTempDir, twoInputTwoOutputModel, writeModelVersion } from '@maas/test-support';
import { defaultRuntimeOptions, OnnxModel, runError, usableCores } from '../src/index.js';

test('signatures come from the graph: names, TF dtypes, -1 for symbolic dims', async () => {
  const file = writeModelVersion(makeTempDir(), 1, twoInputTwoOutputModel());
  const model = await OnnxModel.load(file, 'm:1');
  assert.deepEqual(model.signature.inputs, [
    { alias: 'a', name: 'a', dtype: DataType.DT_FLOAT, shape: [-1, 3] },
    { alias: 'b', name: 'b', dtype: DataType.DT_FLOAT, shape: [-1, 3] },
  ]);
  assert.deepEqual(model.signature.outputs.map((o) => o.alias), ['sum', 'product']);
  await model.release();
});

test('runs spread over several session instances and compute correctly', async () => {
  const file = writeModelVersion(makeTempDir(), 1, addConstantModel(2));
  const model = await OnnxModel.load(file, 'm:1', { ...defaultRuntimeOptions(), instances: 2, intraOpThreads: 1 });
  const results = await Promise.all(
    [1, 2, 3, 4].map((v) => model.run({ x: new ort.Tensor('float32', Float32Array.from([v]), [1, 1]) }, ['y'])),
  );
  assert.deepEqual(results.map((r) => (r.y!.data as Float32Array)[0]), [3, 4, 5, 6]);
  await model.release();
});

test('input-caused runtime failures are INVALID_ARGUMENT naming the model', async () => {
  const file = writeModelVersion(makeTempDir(), 1, addConstantModel(2, ['batch', 3]));
  const model = await OnnxModel.load(file, 'm:1');
  await assert.rejects(
    model.run({ x: new ort.Tensor('float32', new Float32Array(4), [1, 4]) }, ['y']),
    (e: ServingError) => e.code === status.INVALID_ARGUMENT && /^m:1: onnxruntime rejected the input: Got invalid dimensions/.test(e.message),
  );
  assert.equal(runError(new Error('std::bad_alloc'), 'm:1').code, status.RESOURCE_EXHAUSTED);
  await model.release();
});

test('a file that is not a model fails to load with FAILED_PRECONDITION', async () => {
  const file = writeModelVersion(makeTempDir(), 1, new TextEncoder().encode('not onnx'));
  await assert.rejects(OnnxModel.load(file, 'm:1'), (e: ServingError) => e.code === status.FAILED_PRECONDITION && /Failed to load m:1/.test(e.message));
});

test('default runtime options: single-threaded runs below 8 cores, two instances splitting the cores above', () => {
  assert.deepEqual(defaultRuntimeOptions(2), { intraOpThreads: 1, interOpThreads: 1, graphOptimizationLevel: 'all', executionProviders: ['cpu'], instances: 1 });
  assert.equal(defaultRuntimeOptions(16).instances, 2);
  assert.equal(defaultRuntimeOptions(16).intraOpThreads, 8);
});

test('usableCores: the CPU affinity, capped by a cgroup v2 quota when one is set', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cpu-max-'));
  const file = (text: string) => {
    writeFileSync(join(dir, 'cpu.max'), text);
    return join(dir, 'cpu.max');
  };
  const cores = availableParallelism();
  assert.equal(usableCores(join(dir, 'absent')), cores);
  assert.equal(usableCores(file('max 100000\n')), cores);
  assert.equal(usableCores(file('50000 100000\n')), 1, 'half a core still gets one thread');
  assert.equal(usableCores(file(`${(cores + 4) * 100000} 100000\n`)), cores, 'a quota above the affinity does not add cores');
  rmSync(dir, { recursive: true });
});
