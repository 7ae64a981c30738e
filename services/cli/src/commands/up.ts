import { flagsHelp, parseFlags, type FlagSpec } from '../flags.js';
import { AUTH_FLAGS, BATCHING_FLAGS, CLIENT_LIMIT_FLAGS, CLUSTER_TLS_FLAGS, MODEL_SOURCE_FLAGS, REQUEST_LIMIT_FLAGS, REST_FLAGS, TLS_FLAGS } from '../common-flags.js';
import { spawnRole, type RoleProcess, type UpReadyEvent } from '../child-role.js';
import { startLocalRedis, type LocalRedis } from '../local-redis.js';
import { announceReady, exitOnSignal, logger } from '../shutdown.js';
import { SCHEDULER_FLAGS } from './scheduler.js';
import { WORKER_FLAGS } from './worker.js';

/**
 * Flags of one role that `up` accepts and hands on when given: the role's own specs without their
 * defaults, so an absent flag leaves the role's default in force (shown in the help).
 */
function roleFlags(specs: Record<string, FlagSpec>, names: readonly string[]): Record<string, FlagSpec> {
  return Object.fromEntries(
    names.map((name) => {
      const spec = specs[name]!;
      return [name, { ...spec, default: undefined, help: spec.default === undefined ? spec.help : `${spec.help} (default ${String(spec.default)})` }];
    }),
  );
}

/** Periods and autoscaling settings of the scheduler (docs/scaling.md), and TF Serving's metrics on its REST port. */
const SCHEDULER_ONLY_FLAGS = roleFlags(SCHEDULER_FLAGS, [
  'monitoring_config_file',
  'refresh_ms',
  'placement_ms',
  'scale_target_in_flight',
  'scale_latency_objective_ms',
  'scale_window_ms',
  'scale_up_delay_ms',
  'scale_down_delay_ms',
  'scale_to_zero_idle_ms',
  'cold_start_max_ms',
]);
/** How each worker runs its models: batching, sessions and providers, vertical profiling. */
const WORKER_ONLY_FLAGS = roleFlags(WORKER_FLAGS, [
  ...Object.keys(BATCHING_FLAGS),
  'execution_providers',
  'intra_op_threads',
  'session_instances',
  'profile_models',
  'profile_budget_ms',
  'profile_latency_objective_ms',
  'profile_batch_sizes',
]);
/** Read by every role (workers report, the others read reports, on this period). */
const ALL_ROLES_FLAGS = roleFlags(WORKER_FLAGS, ['heartbeat_ms']);

const UP_FLAGS: Record<string, FlagSpec> = {
  ...REST_FLAGS,
  ...MODEL_SOURCE_FLAGS,
  ...AUTH_FLAGS,
  ...TLS_FLAGS,
  ...CLUSTER_TLS_FLAGS,
  ...REQUEST_LIMIT_FLAGS,
  ...CLIENT_LIMIT_FLAGS,
  ...SCHEDULER_ONLY_FLAGS,
  ...WORKER_ONLY_FLAGS,
  ...ALL_ROLES_FLAGS,
  workers: { type: 'int', default: 2, help: 'number of worker processes' },
  metrics_port: { type: 'int', help: "scheduler's /metrics port (default 9464; the registry keeps 9465); -1: free ports for both, 0: both off (workers always take free ports)" },
  port: { type: 'int', default: 8500, help: "scheduler's gRPC port (0 picks a free port)" },
  redis: { type: 'string', help: 'Redis URL (default: env REDIS_URL, else a redis-server started here)' },
  redis_prefix: { type: 'string', default: 'maas:', help: 'prefix of every Redis key' },
  help: { type: 'bool', default: false, help: 'print this help' },
};

/** Flags passed through to a role when they were given to `up`. */
function passThrough(flags: Record<string, unknown>, names: string[]): string[] {
  return names.filter((n) => flags[n] !== undefined).map((n) => `--${n}=${String(flags[n])}`);
}

/**
 * A local cluster on loopback: a registry, a scheduler and N workers, each its own process, on a
 * Redis (REDIS_URL, or one started here). Ctrl-C stops them all, workers last so requests drain.
 */
export async function upCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, UP_FLAGS);
  if (flags.help) return console.log(`usage: maas up [flags]\n${flagsHelp(UP_FLAGS)}`);
  const log = logger('up');
  let redis: LocalRedis | undefined;
  const url = (flags.redis as string | undefined) ?? process.env.REDIS_URL ?? (redis = await startLocalRedis()).url;
  log(`Redis at ${url}${redis ? ' (started here)' : ''}`);
  // Every role gets the auth config, the cluster's TLS and the request limits; the front door also its own TLS and client limits.
  const secured = passThrough(flags, Object.keys({ ...AUTH_FLAGS, ...CLUSTER_TLS_FLAGS, ...REQUEST_LIMIT_FLAGS }));
  const frontDoor = passThrough(flags, Object.keys({ ...TLS_FLAGS, ...CLIENT_LIMIT_FLAGS })).filter((f) => !secured.includes(f));
  const common = [`--redis=${url}`, `--redis_prefix=${String(flags.redis_prefix)}`, '--grpc_host=127.0.0.1', ...secured, ...passThrough(flags, Object.keys(ALL_ROLES_FLAGS))];
  const relay = (role: string) => (line: string) => console.error(`${role.padEnd(10)}| ${line}`);
  const roles: RoleProcess[] = [];
  let stopping = false;
  // `up` does not restart a role that dies (the cluster carries on without it); it says so.
  const watch = (name: string, role: RoleProcess) => {
    role.child.once('exit', (code, signal) => {
      if (!stopping) log(`${name} (pid ${role.child.pid}) exited unexpectedly (${signal ?? `code ${code}`}); the rest of the cluster keeps running without it`);
    });
    return role;
  };
  const stopAll = async () => {
    stopping = true;
    // Front door first (no new requests), then the registry, then workers once in-flight work is done.
    for (const role of [...roles].reverse()) await role.stop();
    await redis?.stop();
  };
  try {
    // --metrics_port=-1 or 0 applies to the registry too; a port number only to the scheduler.
    const metricsPort = flags.metrics_port as number | undefined;
    const registryMetrics = metricsPort !== undefined && metricsPort <= 0 ? [`--metrics_port=${metricsPort}`] : [];
    const registry = await spawnRole(['registry', ...common, '--port=0', ...registryMetrics, ...passThrough(flags, Object.keys(MODEL_SOURCE_FLAGS))], { onLog: relay('registry') });
    roles.push(watch('registry', registry));
    const workers = await Promise.all(
      Array.from({ length: flags.workers as number }, (_, i) => spawnRole(['worker', ...common, '--port=0', '--metrics_port=-1', ...passThrough(flags, Object.keys(WORKER_ONLY_FLAGS))], { onLog: relay(`worker-${i + 1}`) }).then((w) => watch(`worker-${i + 1}`, w))),
    );
    roles.unshift(...workers);
    const schedulerFlags = [...passThrough(flags, [...Object.keys(REST_FLAGS), 'metrics_port']), ...frontDoor, ...passThrough(flags, Object.keys(SCHEDULER_ONLY_FLAGS))];
    const scheduler = await spawnRole(['scheduler', ...common, `--port=${String(flags.port)}`, ...schedulerFlags], { onLog: relay('scheduler') });
    roles.push(watch('scheduler', scheduler));
    log(`cluster up: scheduler gRPC :${scheduler.ready.grpcPort}${scheduler.ready.restPort ? `, REST :${scheduler.ready.restPort}` : ''}, ${workers.length} workers`);
    const ready: Omit<UpReadyEvent, 'event'> = {
      role: 'up',
      grpcPort: scheduler.ready.grpcPort,
      restPort: scheduler.ready.restPort,
      metricsPort: scheduler.ready.metricsPort,
      registryPort: registry.ready.grpcPort,
      registryMetricsPort: registry.ready.metricsPort,
      redis: url,
      workers: workers.map((w) => ({ id: w.ready.id!, pid: w.child.pid!, grpcPort: w.ready.grpcPort, metricsPort: w.ready.metricsPort })),
    };
    announceReady(ready);
  } catch (error) {
    await stopAll();
    throw error;
  }
  // Each role bounds its own shutdown; `up` waits for all of them.
  exitOnSignal(stopAll, log, Infinity);
}
