import { randomUUID } from 'node:crypto';
import type { RoleSecurity } from '@maas/auth';
import type { ClusterState } from '@maas/cluster-state';
import { addModelService, startGrpcServer, stopGrpcServer } from '@maas/serving-api';
import { startRestServer, stopRestServer, type RestPages } from '../rest/rest-server.js';
import { batchJobProgress, ClusterObserver, dashboardPages } from '../dashboard/index.js';
import { ClusterBackend } from './cluster-backend.js';
import { addForwardedPredictionService } from './forwarding-services.js';
import { PlacementLoop } from './placement-loop.js';
import { Router } from './router.js';
import { ClusterScaler, ColdStart, DEFAULT_SCALING, type ScalingDefaults } from '../scaling/index.js';
import { WorkerView } from './worker-view.js';
import { observeWorkersWanted } from '@maas/telemetry';
import { workersWanted } from '../scaling/scaling-metrics.js';
import { addBatchJobsService, BATCH_REST_PREFIX, BatchService, handleBatchRest } from '../batch/index.js';

export interface SchedulerOptions {
  state: ClusterState;
  host: string;
  grpcPort: number;
  /** Undefined disables REST; 0 binds a free port. */
  restPort?: number;
  maxMessageBytes: number;
  maxRestBodyBytes: number;
  refreshMs: number;
  placementMs: number;
  /** Autoscaling defaults; a model's own settings (RegistryAdmin.SetReplicas) override them. */
  scaling?: Partial<ScalingDefaults>;
  /** Longest a request for a model scaled to zero waits for its cold start. */
  coldStartMaxMs?: number;
  /** Extra REST pages (TF Serving's monitoring endpoint); the dashboard is always served. */
  restPages?: RestPages;
  /** Auth, TLS and limits of the listeners (external) and of calls to the other roles; default: none. */
  security?: RoleSecurity;
  log: (message: string) => void;
}

export interface Scheduler {
  grpcPort: number;
  restPort?: number;
  stop(): Promise<void>;
}

/**
 * The cluster's front door: routes TF Serving requests to workers and, while it holds the
 * placement lease, decides which worker holds which model.
 */
export async function startScheduler(options: SchedulerOptions): Promise<Scheduler> {
  const view = new WorkerView(options.state, options.refreshMs, options.log);
  await view.start();
  const coldStart = new ColdStart({
    pollMs: Math.min(50, options.refreshMs),
    maxWaitMs: options.coldStartMaxMs ?? 60_000,
    record: (model) => options.state.recordDemand(model, Date.now()),
    log: options.log,
  });
  const router = new Router(view, { maxMessageBytes: options.maxMessageBytes, maxAttempts: 3, log: options.log, coldStart, security: options.security?.clusterClient() });
  const backend = new ClusterBackend(router, view, options.state);
  const scaler = new ClusterScaler({ ...DEFAULT_SCALING, ...options.scaling });
  const placement = new PlacementLoop(randomUUID(), options.state, view, options.placementMs, options.log, scaler);
  placement.start();
  observeWorkersWanted(() => (placement.lastScaling ? workersWanted(view.workers, placement.lastScaling) : []));
  const batch = new BatchService({ redis: options.state.redis, prefix: options.state.prefix, view, log: options.log });
  const grpc = await startGrpcServer(
    (server) => {
      addForwardedPredictionService(server, router);
      addModelService(server, backend);
      addBatchJobsService(server, batch);
    },
    { host: options.host, port: options.grpcPort, maxMessageBytes: options.maxMessageBytes, security: options.security?.grpcServer('external') },
  );
  const observer = new ClusterObserver(
    { view, state: options.state, batchJobs: async () => (await batch.list({ limit: 20 })).jobs.map(batchJobProgress) },
    grpc.health,
    options.refreshMs,
  );
  observer.start();
  const rest =
    options.restPort !== undefined
      ? await startRestServer(backend, {
          host: options.host,
          port: options.restPort,
          maxBodyBytes: options.maxRestBodyBytes,
          pages: new Map([...(options.restPages ?? []), ...dashboardPages(observer)]),
          mounts: new Map([[BATCH_REST_PREFIX, (request, response) => handleBatchRest(batch, request, response, options.maxRestBodyBytes)]]),
          ...options.security?.rest(),
        })
      : undefined;
  return {
    grpcPort: grpc.port,
    restPort: rest?.port,
    async stop() {
      placement.stop();
      observer.stop();
      view.stop();
      await Promise.all([stopGrpcServer(grpc.server), rest && stopRestServer(rest.server)]);
      router.close();
      await batch.close();
    },
  };
}
