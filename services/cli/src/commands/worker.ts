import { ClusterState } from '@maas/cluster-state';
import { startClusterWorker } from '@maas/worker';
import { FlagError, flagsHelp, parseFlags, type FlagSpec, type FlagValues } from '../flags.js';
import {
  AUTH_FLAGS,
  BATCHING_FLAGS,
  CLUSTER_FLAGS,
  CLUSTER_TLS_FLAGS,
  REQUEST_LIMIT_FLAGS,
  DEFAULT_WORKER_METRICS_PORT,
  LISTEN_FLAGS,
  RUNTIME_FLAGS,
  batchingConfigFrom,
  metricsEndpointFrom,
  metricsFlags,
  redisUrlFrom,
  roleSecurityFrom,
  runtimeOptionsFrom,
  shutdownTimeoutMsFrom,
} from '../common-flags.js';
import { announceReady, exitOnSignal, logger } from '../shutdown.js';

export const WORKER_FLAGS: Record<string, FlagSpec> = {
  ...LISTEN_FLAGS,
  ...CLUSTER_FLAGS,
  ...BATCHING_FLAGS,
  ...RUNTIME_FLAGS,
  ...metricsFlags(DEFAULT_WORKER_METRICS_PORT),
  ...AUTH_FLAGS,
  ...CLUSTER_TLS_FLAGS,
  ...REQUEST_LIMIT_FLAGS,
  port: { type: 'int', default: 0, help: 'gRPC port of this worker (0 picks a free port)' },
  worker_id: { type: 'string', help: 'stable id (default: a new UUID each start)' },
  profile_models: { type: 'bool', default: false, help: "time each version at load over batch sizes, threads, instances and providers, and load it with the best (a model's runtime.json overrides)" },
  profile_budget_ms: { type: 'int', default: 3000, help: 'wall time the profile of one version may take' },
  profile_latency_objective_ms: { type: 'int', default: 100, help: 'p95 latency of one run the chosen configuration must meet' },
  profile_batch_sizes: { type: 'string', default: '1,4,16,64', help: 'batch sizes tried when --enable_batching is on' },
};

function profilingFrom(flags: FlagValues) {
  if (!flags.profile_models) return undefined;
  const batchSizes = String(flags.profile_batch_sizes).split(',').map(Number);
  if (batchSizes.some((b) => !Number.isSafeInteger(b) || b <= 0)) throw new FlagError(`--profile_batch_sizes expects positive integers, got '${String(flags.profile_batch_sizes)}'`);
  return { budgetMs: flags.profile_budget_ms as number, objectiveMs: flags.profile_latency_objective_ms as number, batchSizes };
}

export async function workerCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, WORKER_FLAGS);
  if (flags.help) return console.log(`usage: maas worker [flags]\n${flagsHelp(WORKER_FLAGS)}`);
  const log = logger('worker');
  const state = ClusterState.connect(redisUrlFrom(flags), flags.redis_prefix as string);
  const heartbeatMs = flags.heartbeat_ms as number;
  const security = roleSecurityFrom(flags, log);
  const worker = await startClusterWorker({
    state,
    id: flags.worker_id as string | undefined,
    bindHost: flags.grpc_host as string,
    advertiseHost: flags.advertise_host as string,
    port: flags.port as number,
    maxMessageBytes: flags.grpc_max_message_bytes as number,
    heartbeatMs,
    batching: await batchingConfigFrom(flags),
    runtime: runtimeOptionsFrom(flags),
    profiling: profilingFrom(flags),
    reportTtlMs: heartbeatMs * 3,
    security,
    log,
  });
  log(`worker ${worker.id} serving on port ${worker.port}`);
  const metrics = await metricsEndpointFrom(flags, log);
  announceReady({ role: 'worker', id: worker.id, grpcPort: worker.port, metricsPort: metrics?.port });
  exitOnSignal(async () => {
    await worker.stop();
    await metrics?.stop();
    await state.close();
    await security.close();
  }, log, shutdownTimeoutMsFrom(flags));
}
