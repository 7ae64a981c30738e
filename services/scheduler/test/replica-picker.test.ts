import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WorkerReport } from '@maas/cluster-state';
import { OutstandingRequests, pickReplica, replicaLoad, type Candidate } from '../src/cluster/replica-picker.js';

const worker = (id: string, inFlight: number, reportedAt: number): WorkerReport => ({
  id,
  address: `${id}:8500`,
  capacity: { cores: 2, memoryBytes: 1 << 30, providers: ['cpu'], gpuMemoryBytes: 0 },
  models: [],
  inFlight,
  startedAt: 0,
  reportedAt,
  ttlMs: 5000,
  draining: false,
});
const candidate = (w: WorkerReport): Candidate => ({ worker: w, version: 1 });

test("a worker's report counts this scheduler's own requests once, net of what it had outstanding when the report came", () => {
  const outstanding = new OutstandingRequests();
  for (let i = 0; i < 24; i++) outstanding.add('a', 1);
  for (let i = 0; i < 8; i++) outstanding.add('b', 1);
  // Reports that saw exactly our requests: no other scheduler's load on either worker.
  const a = candidate(worker('a', 24, 1000));
  const b = candidate(worker('b', 8, 1000));
  assert.equal(replicaLoad(a, outstanding), 24 / 2);
  assert.equal(replicaLoad(b, outstanding), 8 / 2);
  // Our counts move on while the reports stand: the stale reports no longer push the split back.
  for (let i = 0; i < 8; i++) {
    outstanding.add('a', -1);
    outstanding.add('b', 1);
  }
  assert.equal(replicaLoad(a, outstanding), replicaLoad(b, outstanding));
  // A newer report with requests of another scheduler on b: those count on top of ours.
  const bNow = candidate(worker('b', 16 + 5, 2000));
  assert.equal(replicaLoad(bNow, outstanding), (16 + 5) / 2);
  assert.equal(pickReplica([a, bNow], outstanding, () => 0), a);
});

