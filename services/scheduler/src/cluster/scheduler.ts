import { randomUUID } from 'node:crypto';
import type { ClusterState } from '@maas/cluster-state';
import { addModelService, startGrpcServer, stopGrpcServer } from '@maas/serving-api';
import { startRestServer, stopRestServer } from '../rest/rest-server.js';
import { ClusterBackend } from './cluster-backend.js';
import { addForwardedPredictionService } from './forwarding-services.js';
import { PlacementLoop } from './placement-loop.js';
import { Router } from './router.js';
import { WorkerView } from './worker-view.js';

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
  const router = new Router(view, { maxMessageBytes: options.maxMessageBytes, maxAttempts: 3, log: options.log });
  const backend = new ClusterBackend(router, view, options.state);
  const placement = new PlacementLoop(randomUUID(), options.state, view, options.placementMs, options.log);
  placement.start();
  const grpc = await startGrpcServer(
    (server) => {
      addForwardedPredictionService(server, router);
      addModelService(server, backend);
    },
    { host: options.host, port: options.grpcPort, maxMessageBytes: options.maxMessageBytes },
  );
  const rest =
    options.restPort !== undefined
      ? await startRestServer(backend, { host: options.host, port: options.restPort, maxBodyBytes: options.maxRestBodyBytes })
      : undefined;
  return {
    grpcPort: grpc.port,
    restPort: rest?.port,
    async stop() {
      placement.stop();
      view.stop();
      await Promise.all([stopGrpcServer(grpc.server), rest && stopRestServer(rest.server)]);
      router.close();
    },
  };
}
