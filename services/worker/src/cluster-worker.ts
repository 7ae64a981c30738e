import { availableParallelism, totalmem } from 'node:os';
import { randomUUID } from 'node:crypto';
import { ModelServerConfig } from '@maas/protos';
import type { RuntimeOptions } from '@maas/onnx-runtime';
import { ClusterState, type ModelReport, type StoredCatalog, type WorkerReport } from '@maas/cluster-state';
import { ModelCatalog } from '@maas/registry';
import { addPredictionService, startGrpcServer, stopGrpcServer } from '@maas/serving-api';
import { LocalBackend } from './local-backend.js';
import { ModelHost } from './model-host.js';
import { detectDevices } from './devices.js';
import type { BatchingConfig } from './version-runner.js';

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
  /** A report expires this long after its last renewal (a dead worker leaves routing then). */
  reportTtlMs: number;
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
  const host = new ModelHost(new ModelCatalog(), { pollSeconds: 1, batching: options.batching, runtime: options.runtime, log: options.log });
  await host.start();
  const backend = new LocalBackend(host);
  const grpc = await startGrpcServer((server) => addPredictionService(server, backend), { host: options.bindHost, port: options.port, maxMessageBytes: options.maxMessageBytes });
  const address = `${options.advertiseHost}:${grpc.port}`;
  const devices = await detectDevices();
  const capacity = {
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    providers: devices.providers.filter((p) => p.usable).map((p) => p.name),
    gpuMemoryBytes: devices.gpus.reduce((sum, g) => sum + g.memoryTotalBytes, 0),
  };
  options.log(`devices: ${devices.providers.map((p) => (p.usable ? p.name : `${p.name} (unusable: ${p.reason})`)).join(', ')}; ${devices.gpus.length} GPU(s)`);
  const startedAt = Date.now();
  let draining = false;
  let appliedKey = '';

  const report = (): WorkerReport => ({
    id,
    address,
    capacity,
    models: modelReports(host),
    inFlight: host.servedModels().reduce((sum, m) => sum + [...m.versions.values()].reduce((s, v) => s + v.inFlight, 0), 0),
    startedAt,
    reportedAt: Date.now(),
    ttlMs: options.reportTtlMs,
    draining,
  });

  const followAssignment = async () => {
    const [names, stored] = await Promise.all([options.state.assignment(id), options.state.catalog()]);
    if (names === undefined || stored === undefined) return;
    const key = `${stored.revision}:${[...names].sort().join(',')}`;
    if (key === appliedKey) return;
    appliedKey = key;
    options.log(`assignment: ${names.join(', ') || '(none)'} (catalogue revision ${stored.revision})`);
    host.applyConfig(assignedConfig(stored, names), Date.now() + 10 * 60_000).catch((error: Error) => {
      appliedKey = ''; // retry on the next beat
      options.log(`applying assignment failed: ${error.message}`);
    });
  };

  let timer: NodeJS.Timeout | undefined;
  const beat = async () => {
    try {
      await followAssignment();
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
      clearTimeout(timer);
      // Tell routers first, then let in-flight calls finish before deregistering.
      await options.state.publishReport(report(), options.reportTtlMs).catch(() => {});
      await stopGrpcServer(grpc.server);
      await host.stop();
      await options.state.removeWorker(id).catch(() => {});
    },
  };
}
