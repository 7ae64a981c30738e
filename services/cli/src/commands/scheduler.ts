import { ClusterState } from '@maas/cluster-state';
import { startScheduler } from '@maas/scheduler';
import { flagsHelp, parseFlags, type FlagSpec } from '../flags.js';
import { CLUSTER_FLAGS, LISTEN_FLAGS, REST_FLAGS, redisUrlFrom, restPortFrom } from '../common-flags.js';
import { announceReady, exitOnSignal, logger } from '../shutdown.js';

const SCHEDULER_FLAGS: Record<string, FlagSpec> = {
  ...LISTEN_FLAGS,
  ...REST_FLAGS,
  ...CLUSTER_FLAGS,
  refresh_ms: { type: 'int', default: 250, help: 'period of reading worker reports from Redis' },
  placement_ms: { type: 'int', default: 1000, help: 'period of placement rounds (on the lease holder)' },
};

export async function schedulerCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, SCHEDULER_FLAGS);
  if (flags.help) return console.log(`usage: maas scheduler [flags]\n${flagsHelp(SCHEDULER_FLAGS)}`);
  const log = logger('scheduler');
  const state = ClusterState.connect(redisUrlFrom(flags), flags.redis_prefix as string);
  const scheduler = await startScheduler({
    state,
    host: flags.grpc_host as string,
    grpcPort: flags.port as number,
    restPort: restPortFrom(flags.rest_api_port as number),
    maxMessageBytes: flags.grpc_max_message_bytes as number,
    maxRestBodyBytes: flags.rest_api_max_body_bytes as number,
    refreshMs: flags.refresh_ms as number,
    placementMs: flags.placement_ms as number,
    log,
  });
  announceReady({ role: 'scheduler', grpcPort: scheduler.grpcPort, restPort: scheduler.restPort });
  exitOnSignal(async () => {
    await scheduler.stop();
    await state.close();
  }, log);
}
