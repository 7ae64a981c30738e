import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ModelServerConfig, ModelVersionStatus_State as State } from '@maas/protos';
import { ClusterState, type StoredCatalog, type WorkerReport } from '@maas/cluster-state';
import { startLocalRedis, type LocalRedis } from '@maas/cli';
import { PlacementLoop } from '../src/cluster/placement-loop.js';
import { reportedHolding } from '../src/cluster/placement-rebuild.js';
import { WorkerView } from '../src/cluster/worker-view.js';

const MiB = 1024 * 1024;
const TTL_MS = 10_000;

const catalog: StoredCatalog = {
  revision: 3,
  config: Buffer.from(
    ModelServerConfig.encode(
      ModelServerConfig.fromPartial({ modelConfigList: { config: [{ name: 'adder', basePath: '/models/adder' }, { name: 'other', basePath: '/models/other' }] } }),
    ).finish(),
  ).toString('base64'),
  replicas: { adder: { min: 2, max: 2 } },
};

/** A worker's heartbeat holding version 1 of each model in the given state. */
function report(id: string, models: Record<string, State>, reportedAt: number): WorkerReport {
  return {
    id,
    address: `${id}:8500`,
    capacity: { cores: 2, memoryBytes: 1024 * MiB, providers: ['cpu'], gpuMemoryBytes: 0 },
    models: Object.entries(models).map(([name, state]) => ({
      name,
      lastUsedAt: 0,
      versions: [{ version: 1, state, memoryBytes: MiB, gpuMemoryBytes: 0, provider: 'cpu' }],
    })),
    inFlight: 0,
    startedAt: 0,
    reportedAt,
    ttlMs: TTL_MS,
    draining: false,
  };
}

test('a model the worker reports UNLOADING (assigned away) is not held; one still loading, or mid-rollout, is', () => {
  const r = report('w', { adder: State.AVAILABLE, other: State.UNLOADING, third: State.LOADING }, 0);
  r.models.push({ name: 'rolling', lastUsedAt: 0, versions: [{ version: 1, state: State.UNLOADING, memoryBytes: MiB, gpuMemoryBytes: 0, provider: 'cpu' }, { version: 2, state: State.AVAILABLE, memoryBytes: MiB, gpuMemoryBytes: 0, provider: 'cpu' }] });
  assert.deepEqual(reportedHolding(r), ['adder', 'third', 'rolling']);
});

/**
 * The cluster test's "Redis restarted under load" as placement saw it: `other` (one replica) had
 * just been assigned away from b, which was unloading it, when Redis came back empty. Placement
 * must keep a's live copy, not b's leaving one (which would unload the only copy being served).
 */
describe('placement after Redis comes back empty', () => {
  let redis: LocalRedis;
  let state: ClusterState;
  let view: WorkerView;
  let loop: PlacementLoop;
  const placed = () => state.assignments(['a', 'b']);

  before(async () => {
    redis = await startLocalRedis();
    state = ClusterState.connect(redis.url, 'placement-rebuild:');
  });
  after(async () => {
    state.redis.disconnect();
    await redis.stop();
  });

  beforeEach(async () => {
    await state.redis.flushall();
    // Refreshed by hand below, so the view holds exactly the reports each step says.
    view = new WorkerView(state, 60_000, () => {});
    loop = new PlacementLoop('scheduler-1', state, view, 1000, () => {});
    await state.writeCatalog(catalog);
    await state.writeAssignments({ a: ['adder', 'other'], b: ['adder'] });
    await state.publishReport(report('a', { adder: State.AVAILABLE, other: State.AVAILABLE }, 1), TTL_MS);
    await state.publishReport(report('b', { adder: State.AVAILABLE, other: State.UNLOADING }, 2), TTL_MS);
    await view.refresh();
    await loop.round();
    assert.deepEqual(await placed(), { a: ['adder', 'other'], b: ['adder'] }, 'placement before the restart');
    await state.redis.flushall();
    await state.writeCatalog(catalog);
  });

  test('a worker whose report predates the flush is waited for, then what it reports since counts', async () => {
    // a reports again at once; b not yet, so the view still has its report from before (other UNLOADING).
    await state.publishReport(report('a', { adder: State.AVAILABLE, other: State.AVAILABLE }, 3), TTL_MS);
    await view.refresh();
    assert.deepEqual(view.workers.map((w) => w.id), ['a', 'b']);
    await loop.round();
    assert.deepEqual(await placed(), {}, 'nothing written while b has not reported since the flush');
    // b has finished unloading `other` meanwhile.
    await state.publishReport(report('b', { adder: State.AVAILABLE }, 4), TTL_MS);
    await view.refresh();
    await loop.round();
    assert.deepEqual(await placed(), { a: ['adder', 'other'], b: ['adder'] });
  });

  test('a copy reported UNLOADING after the flush does not count against the live one', async () => {
    // b could not finish leaving before Redis went (its notice was not out): it still reports other UNLOADING.
    await state.publishReport(report('a', { adder: State.AVAILABLE, other: State.AVAILABLE }, 3), TTL_MS);
    await state.publishReport(report('b', { adder: State.AVAILABLE, other: State.UNLOADING }, 4), TTL_MS);
    await view.refresh();
    await loop.round();
    assert.deepEqual(await placed(), { a: ['adder', 'other'], b: ['adder'] });
  });
});
