import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ScalingStatus, WorkerReport } from '@maas/cluster-state';
import { workersWanted } from '../src/scaling/scaling-metrics.js';

const worker = (id: string, providers: string[], draining = false) => ({ id, draining, capacity: { providers } }) as unknown as WorkerReport;
const status = (missingWorkers: ScalingStatus['missingWorkers'], removableWorkers: string[]) => ({ models: {}, missingWorkers, removableWorkers }) as unknown as ScalingStatus;
const wanted = (workers: WorkerReport[], s?: ScalingStatus) => Object.fromEntries(workersWanted(workers, s).map((w) => [w.kind, w.count]));

test('maas_workers_wanted counts the fleet less draining and removable workers, plus the missing ones', () => {
  const fleet = [worker('c1', ['cpu']), worker('c2', ['cpu']), worker('c3', ['cpu'], true), worker('g1', ['webgpu', 'cpu']), worker('g2', ['webgpu', 'cpu'])];
  assert.deepEqual(wanted(fleet), { cpu: 2, gpu: 2 });
  // Idle workers the placement may stop make the HPA shrink the fleet.
  assert.deepEqual(wanted(fleet, status([], ['c2', 'g2'])), { cpu: 1, gpu: 1 });
  // A shortage grows it.
  assert.deepEqual(wanted(fleet, status([{ kind: 'gpu', count: 3, memoryBytes: 1 }], [])), { cpu: 2, gpu: 5 });
  // No worker yet: the cpu series is still there, at 0.
  assert.deepEqual(wanted([]), { cpu: 0 });
});
