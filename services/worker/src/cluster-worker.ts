import { availableParallelism, totalmem } from 'node:os';
import { randomUUID } from 'node:crypto';
import { ModelServerConfig } from '@maas/protos';
import type { RuntimeOptions } from '@maas/onnx-runtime';
import { ClusterState, type ModelReport, type StoredCatalog, type WorkerReport } from '@maas/cluster-state';
import { ModelCatalog } from '@maas/registry';
import { addPredictionService, startGrpcServer, stopGrpcServer } from '@maas/serving-api';
import type { RoleSecurity } from '@maas/auth';
import { LocalBackend } from './local-backend.js';
import { ModelHost } from './model-host.js';
import { detectDevices } from './devices.js';
import type { BatchingConfig } from './version-runner.js';
import { BatchConsumer, DEFAULT_BATCH_ONLINE, DEFAULT_BATCH_SLICE_MS } from './batch/index.js';
import { reportModelHealth } from './model-health.js';
import { LoadMeter, MeteredBackend, VerticalProfiler, withScalingSignals, type ProfilerOptions } from './profiling/index.js';

/** Window of the p95 latency reported per model. */
const LATENCY_WINDOW_MS = 10_000;
/** The longest a worker waits for routers to stop sending it a model's requests (with no other replica ready they never do). */
const MAX_DRAIN_WAIT_MS = 5_000;

export interface ClusterWorkerOptions {
  state: ClusterState;
  id?: string;
  /** Address to bind, and the host others use to reach this worker. */
  bindHost: string;
  advertiseHost: string;
  port: number;
  maxMessageBytes: number;
  heartbeatMs: number;
  batching?: BatchingConfig;
  runtime?: RuntimeOptions;
  /** Vertical profiling of each version as it loads; off when undefined. */
  profiling?: Omit<ProfilerOptions, 'log' | 'cores'>;
  /** A report expires this long after its last renewal (a dead worker leaves routing then). */
  reportTtlMs: number;
  /** Auth, cluster mTLS and limits of this worker's listener (an internal one); default: none. */
  security?: RoleSecurity;
  log: (message: string) => void;
}

export interface ClusterWorker {
  id: string;
  port: number;
  stop(): Promise<void>;
}

/** The part of the catalogue placed on this worker, as a config its ModelHost can apply. */
function assignedConfig(stored: StoredCatalog, names: readonly string[]): ModelServerConfig {
  const full = ModelServerConfig.decode(Buffer.from(stored.config, 'base64'));
  const wanted = new Set(names);
  return { modelConfigList: { config: (full.modelConfigList?.config ?? []).filter((m) => wanted.has(m.name)) } };
}

function modelReports(host: ModelHost): ModelReport[] {
  return host.servedModels().map((model) => ({
    name: model.name,
    lastUsedAt: model.lastUsedAt,
    versions: [...model.versions.values()].map((v) => ({
      version: v.version,
      state: v.state,
      error: v.error,
      memoryBytes: v.memoryBytes,
      gpuMemoryBytes: v.gpuMemoryBytes,
      provider: v.model?.provider ?? 'cpu',
      contentHash: v.contentHash,
    })),
  }));
}

/**
 * A worker process of the cluster: serves PredictionService for the models placed on it, follows
 * its assignment in Redis, and heartbeats a report of what it holds. When Redis is away it keeps
 * serving what it has; a missing assignment (Redis flushed) never unloads anything.
 */
export async function startClusterWorker(options: ClusterWorkerOptions): Promise<ClusterWorker> {
  const id = options.id ?? randomUUID();
  const profiler = options.profiling && new VerticalProfiler({ ...options.profiling, cores: availableParallelism(), log: options.log });
  const host = new ModelHost(new ModelCatalog(), { pollSeconds: 1, batching: options.batching, runtime: options.runtime, tune: profiler?.tune, log: options.log });
  await host.start();
  const meter = new LoadMeter(LATENCY_WINDOW_MS);
  const backend = new MeteredBackend(new LocalBackend(host), meter, (name) => host.servedModels().some((m) => m.name === name));
  const grpc = await startGrpcServer((server) => addPredictionService(server, backend), {
    host: options.bindHost,
    port: options.port,
    maxMessageBytes: options.maxMessageBytes,
    servingAtStart: false,
    security: options.security?.grpcServer('internal'),
  });
  // Chunks of batch jobs, run between online requests (docs/batch-jobs.md); a chunk's lock outlives 10 heartbeats.
  const batch = new BatchConsumer({
    workerId: id,
    host,
    redis: options.state.redis,
    prefix: options.state.prefix,
    lockMs: 10 * options.heartbeatMs,
    followMs: options.heartbeatMs,
    online: DEFAULT_BATCH_ONLINE,
    sliceMs: DEFAULT_BATCH_SLICE_MS,
    log: options.log,
  });
  batch.start();
  /** Models placed here, once an assignment was read; health is SERVING when all of them are loaded and warmed. */
  let assigned: string[] | undefined;
  const reportHealth = () => reportModelHealth(grpc.health, host, assigned);
  const address = `${options.advertiseHost}:${grpc.port}`;
  const devices = await detectDevices();
  const capacity = {
    cores: availableParallelism(),
    // In a container the cgroup limit is what the kernel enforces, not the node's memory.
    memoryBytes: Math.min(totalmem(), process.constrainedMemory?.() || Infinity),
    providers: devices.providers.filter((p) => p.usable).map((p) => p.name),
    gpuMemoryBytes: devices.gpus.reduce((sum, g) => sum + g.memoryTotalBytes, 0),
  };
  options.log(`devices: ${devices.providers.map((p) => (p.usable ? p.name : `${p.name} (unusable: ${p.reason})`)).join(', ')}; ${devices.gpus.length} GPU(s)`);
  const startedAt = Date.now();
  let draining = false;
  let appliedKey = '';
  /** Models assigned away from here, reported UNLOADING until they are gone. */
  let leaving = new Set<string>();

  const report = (): WorkerReport => ({
    id,
    address,
    capacity,
    models: withScalingSignals(modelReports(host), meter, profiler, leaving),
    inFlight: host.servedModels().reduce((sum, m) => sum + [...m.versions.values()].reduce((s, v) => s + v.inFlight, 0), 0),
    startedAt,
    reportedAt: Date.now(),
    ttlMs: options.reportTtlMs,
    draining,
  });

  /**
   * After a report that routers must act on (models leaving, the worker draining): serves on until
   * no request for those models (default: any) has started for one of their refreshes (at most a
   * heartbeat or a second), so every router has read it (one stalled past its refresh, as a busy
   * process can be, still sends here until then), but at most MAX_DRAIN_WAIT_MS.
   */
  const catchUpMs = Math.min(options.heartbeatMs, 1000);
  const routersLetGo = async (models?: Iterable<string>) => {
    const giveUpAt = Date.now() + MAX_DRAIN_WAIT_MS;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, catchUpMs));
      if (meter.idleMs(models) >= catchUpMs || Date.now() >= giveUpAt) return;
      // Waiting holds up the heartbeat: the report is renewed so it does not expire meanwhile.
      await options.state.publishReport(report(), options.reportTtlMs).catch(() => {});
    }
  };

  const followAssignment = async () => {
    const [names, stored] = await Promise.all([options.state.assignment(id), options.state.catalog()]);
    if (names === undefined || stored === undefined) return;
    const key = `${stored.revision}:${[...names].sort().join(',')}`;
    if (key === appliedKey) return;
    options.log(`assignment: ${names.join(', ') || '(none)'} (catalogue revision ${stored.revision})`);
    leaving = new Set(host.servedModels().map((m) => m.name).filter((name) => !names.includes(name)));
    if (leaving.size > 0) {
      // Routers see them UNLOADING and stop sending requests before they go (scale-down fails nothing).
      await options.state.publishReport(report(), options.reportTtlMs);
      await routersLetGo(leaving);
    }
    // Applied only now: if Redis went away before the notice was out, the next beat tries again
    // (and does not leave these models reported UNLOADING, yet loaded, for good).
    appliedKey = key;
    assigned = names;
    reportHealth();
    host.applyConfig(assignedConfig(stored, names), Date.now() + 10 * 60_000).then(reportHealth, (error: Error) => {
      appliedKey = ''; // retry on the next beat
      options.log(`applying assignment failed: ${error.message}`);
    });
  };

  let timer: NodeJS.Timeout | undefined;
  const beat = async () => {
    try {
      await followAssignment();
      reportHealth();
      await options.state.publishReport(report(), options.reportTtlMs);
    } catch (error) {
      options.log(`heartbeat failed (serving on): ${(error as Error).message}`);
    }
    if (!draining) timer = setTimeout(() => void beat(), options.heartbeatMs);
  };
  await beat();

  return {
    id,
    port: grpc.port,
    async stop() {
      draining = true;
      grpc.health.drain();
      clearTimeout(timer);
      // Tell routers first and give them time to read it (until then they still send here), then
      // let in-flight calls finish before deregistering.
      await options.state.publishReport(report(), options.reportTtlMs).catch(() => {});
      await routersLetGo();
      await stopGrpcServer(grpc.server);
      await batch.stop();
      await host.stop();
      // Not swallowed: a worker that could not deregister exits 1; its heartbeat TTL then takes it out of routing.
      await options.state.removeWorker(id);
    },
  };
}
