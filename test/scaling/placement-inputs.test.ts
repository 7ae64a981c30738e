import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ModelVersionStatus_State as State } from '@maas/protos';
import type { VersionReport, WorkerReport } from '@maas/cluster-state';
import { LoadFailures, RuntimePreferences, runtimeFilePrefersGpu } from '../../services/scheduler/src/scaling/index.js';

const version = (state: State, error?: string): VersionReport => ({
  version: 1,
  state,
  memoryBytes: 0,
  gpuMemoryBytes: 0,
  provider: 'cpu',
  ...(error ? { error: { code: 9, message: error } } : {}),
});

const report = (id: string, models: Record<string, VersionReport[]>): WorkerReport => ({
  id,
  address: `${id}:1`,
  capacity: { cores: 1, memoryBytes: 1, providers: ['cpu'], gpuMemoryBytes: 0 },
  models: Object.entries(models).map(([name, versions]) => ({ name, versions, lastUsedAt: 0 })),
  inFlight: 0,
  startedAt: 0,
  reportedAt: 0,
  ttlMs: 3000,
  draining: false,
});

describe('load failures', () => {
  test('a model whose only version ended in error is failed on that worker until the retry period passes', () => {
    const failures = new LoadFailures(60_000);
    failures.observe([report('w0', { bad: [version(State.END, 'out of memory')], good: [version(State.AVAILABLE)] }), report('w1', { bad: [version(State.LOADING)] })], 1000);
    assert.deepEqual(failures.on('w0'), new Set(['bad']));
    assert.equal(failures.on('w1'), undefined);
    assert.deepEqual(failures.describe(), new Map([['bad', 'failed to load on 1 worker(s), last: out of memory']]));
    // Assigned away, the worker stops reporting it; the failure is remembered.
    failures.observe([report('w0', { good: [version(State.AVAILABLE)] }), report('w1', {})], 30_000);
    assert.deepEqual(failures.on('w0'), new Set(['bad']));
    failures.observe([report('w0', {}), report('w1', {})], 61_000);
    assert.equal(failures.on('w0'), undefined);
  });

  test('a failed new version while an older one serves is not a failed placement; a worker that left is forgotten', () => {
    const failures = new LoadFailures();
    failures.observe([report('w0', { rolling: [version(State.END, 'bad file'), version(State.AVAILABLE)] }), report('w1', { m: [version(State.END, 'oom')] })], 0);
    assert.equal(failures.on('w0'), undefined);
    assert.deepEqual(failures.on('w1'), new Set(['m']));
    failures.observe([report('w0', {})], 1);
    assert.equal(failures.on('w1'), undefined);
  });
});

describe('runtime preferences', () => {
  test('a runtime.json preferring a GPU provider first marks a GPU model; cpu, auto, or a broken file does not', async () => {
    assert.equal(runtimeFilePrefersGpu('{"execution_providers":["webgpu","cpu"]}'), true);
    assert.equal(runtimeFilePrefersGpu('{"execution_providers":["cuda"]}'), true);
    assert.equal(runtimeFilePrefersGpu('{"execution_providers":["cpu","webgpu"]}'), false);
    assert.equal(runtimeFilePrefersGpu('{"execution_providers":["auto"]}'), false);
    assert.equal(runtimeFilePrefersGpu('{"intra_op_threads":2}'), false);
    assert.equal(runtimeFilePrefersGpu('not json'), false);

    const files: Record<string, string> = { '/m/gpu': '{"execution_providers":["webgpu","cpu"]}', '/m/cpu': '{"execution_providers":["cpu"]}' };
    let reads = 0;
    const preferences = new RuntimePreferences(async (dir) => (reads++, files[dir]));
    const models = [{ name: 'gpu', basePath: '/m/gpu' }, { name: 'cpu', basePath: '/m/cpu' }, { name: 'none', basePath: '/m/none' }];
    await preferences.refresh(1, models);
    assert.deepEqual(['gpu', 'cpu', 'none'].map((m) => preferences.prefersGpu(m)), [true, false, false]);
    await preferences.refresh(1, models);
    assert.equal(reads, 3, 'read once per catalogue revision');
    files['/m/cpu'] = '{"execution_providers":["cuda","cpu"]}';
    await preferences.refresh(2, models);
    assert.equal(preferences.prefersGpu('cpu'), true);
  });
});
