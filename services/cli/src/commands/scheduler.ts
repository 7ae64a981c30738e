import { ClusterState } from '@maas/cluster-state';
import { DEFAULT_SCALING, startScheduler } from '@maas/scheduler';
import { FlagError, flagsHelp, parseFlags, type FlagSpec } from '../flags.js';
import {
  AUTH_FLAGS,
  CLIENT_LIMIT_FLAGS,
  CLUSTER_FLAGS,
  CLUSTER_TLS_FLAGS,
  REQUEST_LIMIT_FLAGS,
  TLS_FLAGS,
  DEFAULT_SCHEDULER_METRICS_PORT,
  LISTEN_FLAGS,
  MONITORING_FLAGS,
  REST_FLAGS,
  metricsEndpointFrom,
  metricsFlags,
  monitoringPagesFrom,
  redisUrlFrom,
  restPortFrom,
  roleSecurityFrom,
  shutdownTimeoutMsFrom,
} from '../common-flags.js';
import { announceReady, exitOnSignal, logger } from '../shutdown.js';

export const SCHEDULER_FLAGS: Record<string, FlagSpec> = {
  ...LISTEN_FLAGS,
  ...REST_FLAGS,
  ...CLUSTER_FLAGS,
  ...MONITORING_FLAGS,
  ...metricsFlags(DEFAULT_SCHEDULER_METRICS_PORT),
  ...AUTH_FLAGS,
  ...TLS_FLAGS,
  ...CLUSTER_TLS_FLAGS,
  ...REQUEST_LIMIT_FLAGS,
  ...CLIENT_LIMIT_FLAGS,
  refresh_ms: { type: 'int', default: 250, help: 'period of reading worker reports from Redis' },
  placement_ms: { type: 'int', default: 1000, help: 'period of placement rounds (on the lease holder)' },
  // Autoscaling defaults; per-model settings given with RegistryAdmin.SetReplicas override them.
  scale_target_in_flight: { type: 'string', default: String(DEFAULT_SCALING.targetInFlight), help: 'outstanding requests per replica the autoscaler aims for' },
  scale_latency_objective_ms: { type: 'int', default: 0, help: 'p95 latency objective (ms, on the workers) that also scales up; 0 = none' },
  scale_window_ms: { type: 'int', default: DEFAULT_SCALING.windowMs, help: 'look-back window of the load signals' },
  scale_up_delay_ms: { type: 'int', default: DEFAULT_SCALING.scaleUpDelayMs, help: 'a higher count must be recommended this long before it applies' },
  scale_down_delay_ms: { type: 'int', default: DEFAULT_SCALING.scaleDownDelayMs, help: 'a lower count must be recommended this long before it applies' },
  scale_to_zero_idle_ms: { type: 'int', default: DEFAULT_SCALING.idleMs, help: 'a model with min replicas 0 and no request for this long goes to zero' },
  cold_start_max_ms: { type: 'int', default: 60_000, help: 'longest a request for a model at zero waits for a replica' },
};

export async function schedulerCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, SCHEDULER_FLAGS);
  if (flags.help) return console.log(`usage: maas scheduler [flags]\n${flagsHelp(SCHEDULER_FLAGS)}`);
  const targetInFlight = Number(flags.scale_target_in_flight);
  if (!(targetInFlight > 0)) throw new FlagError(`--scale_target_in_flight expects a positive number, got '${String(flags.scale_target_in_flight)}'`);
  const log = logger('scheduler');
  const state = ClusterState.connect(redisUrlFrom(flags), flags.redis_prefix as string);
  const security = roleSecurityFrom(flags, log);
  const scheduler = await startScheduler({
    state,
    host: flags.grpc_host as string,
    grpcPort: flags.port as number,
    restPort: restPortFrom(flags.rest_api_port as number),
    maxMessageBytes: flags.grpc_max_message_bytes as number,
    maxRestBodyBytes: flags.rest_api_max_body_bytes as number,
    refreshMs: flags.refresh_ms as number,
    placementMs: flags.placement_ms as number,
    scaling: {
      targetInFlight,
      latencyObjectiveMs: (flags.scale_latency_objective_ms as number) > 0 ? (flags.scale_latency_objective_ms as number) : undefined,
      windowMs: flags.scale_window_ms as number,
      scaleUpDelayMs: flags.scale_up_delay_ms as number,
      scaleDownDelayMs: flags.scale_down_delay_ms as number,
      idleMs: flags.scale_to_zero_idle_ms as number,
    },
    coldStartMaxMs: flags.cold_start_max_ms as number,
    restPages: await monitoringPagesFrom(flags),
    security,
    log,
  });
  const metrics = await metricsEndpointFrom(flags, log);
  announceReady({ role: 'scheduler', grpcPort: scheduler.grpcPort, restPort: scheduler.restPort, metricsPort: metrics?.port });
  exitOnSignal(async () => {
    await scheduler.stop();
    await metrics?.stop();
    await state.close();
    await security.close();
  }, log, shutdownTimeoutMsFrom(flags));
}
