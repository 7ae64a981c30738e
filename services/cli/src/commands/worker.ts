import { ClusterState } from '@maas/cluster-state';
import { startClusterWorker } from '@maas/worker';
import { flagsHelp, parseFlags, type FlagSpec } from '../flags.js';
import { BATCHING_FLAGS, CLUSTER_FLAGS, LISTEN_FLAGS, RUNTIME_FLAGS, batchingConfigFrom, redisUrlFrom, runtimeOptionsFrom } from '../common-flags.js';
import { announceReady, exitOnSignal, logger } from '../shutdown.js';

const WORKER_FLAGS: Record<string, FlagSpec> = {
  ...LISTEN_FLAGS,
  ...CLUSTER_FLAGS,
  ...BATCHING_FLAGS,
  ...RUNTIME_FLAGS,
  port: { type: 'int', default: 0, help: 'gRPC port of this worker (0 picks a free port)' },
  worker_id: { type: 'string', help: 'stable id (default: a new UUID each start)' },
};

export async function workerCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, WORKER_FLAGS);
  if (flags.help) return console.log(`usage: maas worker [flags]\n${flagsHelp(WORKER_FLAGS)}`);
  const log = logger('worker');
  const state = ClusterState.connect(redisUrlFrom(flags), flags.redis_prefix as string);
  const heartbeatMs = flags.heartbeat_ms as number;
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
    reportTtlMs: heartbeatMs * 3,
    log,
  });
  log(`worker ${worker.id} serving on port ${worker.port}`);
  announceReady({ role: 'worker', id: worker.id, grpcPort: worker.port });
  exitOnSignal(async () => {
    await worker.stop();
    await state.close();
  }, log);
}
