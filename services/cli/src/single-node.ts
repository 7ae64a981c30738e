import type { ModelServerConfig } from '@maas/protos';
import type { RuntimeOptions } from '@maas/onnx-runtime';
import { ModelCatalog, pollConfigFile } from '@maas/registry';
import { LocalBackend, ModelHost, reportModelHealth, type BatchingConfig, type LoadRetryPolicy } from '@maas/worker';
import { addServingServices, startGrpcServer, stopGrpcServer } from '@maas/serving-api';
import { startRestServer, stopRestServer, type RestPages } from '@maas/scheduler';
import type { RoleSecurity } from '@maas/auth';

export interface SingleNodeOptions {
  host: string;
  grpcPort: number;
  /** Undefined disables REST; 0 binds a free port. */
  restPort?: number;
  maxMessageBytes: number;
  maxRestBodyBytes: number;
  maxTensorElements?: number;
  pollSeconds: number;
  allowUnavailableLabels: boolean;
  loadRetries: LoadRetryPolicy;
  batching?: BatchingConfig;
  runtime?: RuntimeOptions;
  config: ModelServerConfig;
  /** The config file to re-read, when the config came from one and polling is on. */
  configFile?: { path: string; text: string; pollSeconds: number };
  /** Extra pages on the REST port (TF Serving's monitoring endpoint). */
  restPages?: RestPages;
  /** Auth, TLS and limits of both listeners (both are external); default: none. */
  security?: RoleSecurity;
  log: (message: string) => void;
}

const HEALTH_REFRESH_MS = 500;

export interface SingleNode {
  grpcPort: number;
  restPort?: number;
  stop(): Promise<void>;
}

/**
 * The whole cluster in one process: the registry's catalogue, a worker's model host and the
 * scheduler's front door, joined by in-process calls instead of gRPC hops. Listeners open only
 * after every configured model has a version loaded, as TF Serving does.
 */
export async function startSingleNode(options: SingleNodeOptions): Promise<SingleNode> {
  const catalog = new ModelCatalog(options.config);
  const host = new ModelHost(catalog, {
    pollSeconds: options.pollSeconds,
    allowUnavailableLabels: options.allowUnavailableLabels,
    loadRetries: options.loadRetries,
    batching: options.batching,
    runtime: options.runtime,
    log: options.log,
  });
  await host.start();
  const backend = new LocalBackend(host, { maxElements: options.maxTensorElements });
  const grpc = await startGrpcServer((server) => addServingServices(server, backend), {
    host: options.host,
    port: options.grpcPort,
    maxMessageBytes: options.maxMessageBytes,
    security: options.security?.grpcServer('external'),
  });
  const rest =
    options.restPort !== undefined
      ? await startRestServer(backend, { host: options.host, port: options.restPort, maxBodyBytes: options.maxRestBodyBytes, pages: options.restPages, ...options.security?.rest() })
      : undefined;
  // Each model's health follows its versions (polls and reloads change them); the server is SERVING while all are.
  const reportHealth = () => reportModelHealth(grpc.health, host, host.servedModels().map((m) => m.name));
  reportHealth();
  const healthTimer = setInterval(reportHealth, HEALTH_REFRESH_MS).unref();
  const file = options.configFile;
  const poller = file && pollConfigFile(file.path, file.pollSeconds, file.text, (config) => host.applyConfig(config), options.log);
  return {
    grpcPort: grpc.port,
    restPort: rest?.port,
    async stop() {
      clearInterval(healthTimer);
      poller?.stop();
      await Promise.all([stopGrpcServer(grpc.server), rest && stopRestServer(rest.server)]);
      await host.stop();
    },
  };
}
