import { ClusterState } from '@maas/cluster-state';
import { Registry } from '@maas/registry';
import { flagsHelp, parseFlags, type FlagSpec } from '../flags.js';
import {
  AUTH_FLAGS,
  CLUSTER_FLAGS,
  CLUSTER_TLS_FLAGS,
  REQUEST_LIMIT_FLAGS,
  DEFAULT_REGISTRY_METRICS_PORT,
  LISTEN_FLAGS,
  MODEL_SOURCE_FLAGS,
  metricsEndpointFrom,
  metricsFlags,
  modelConfigFrom,
  redisUrlFrom,
  roleSecurityFrom,
  shutdownTimeoutMsFrom,
} from '../common-flags.js';
import { announceReady, exitOnSignal, logger } from '../shutdown.js';

export const REGISTRY_FLAGS: Record<string, FlagSpec> = {
  ...LISTEN_FLAGS,
  ...CLUSTER_FLAGS,
  ...MODEL_SOURCE_FLAGS,
  ...metricsFlags(DEFAULT_REGISTRY_METRICS_PORT),
  ...AUTH_FLAGS,
  ...CLUSTER_TLS_FLAGS,
  ...REQUEST_LIMIT_FLAGS,
  port: { type: 'int', default: 8510, help: 'gRPC port of ModelService and RegistryAdmin' },
};

export async function registryCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, REGISTRY_FLAGS);
  if (flags.help) return console.log(`usage: maas registry [flags]\n${flagsHelp(REGISTRY_FLAGS)}`);
  const log = logger('registry');
  const state = ClusterState.connect(redisUrlFrom(flags), flags.redis_prefix as string);
  const security = roleSecurityFrom(flags, log);
  const registry = new Registry({
    state,
    bindHost: flags.grpc_host as string,
    advertiseHost: flags.advertise_host as string,
    port: flags.port as number,
    maxMessageBytes: flags.grpc_max_message_bytes as number,
    initialConfig: (await modelConfigFrom(flags))?.config,
    heartbeatMs: flags.heartbeat_ms as number,
    security,
    log,
  });
  await registry.start();
  const metrics = await metricsEndpointFrom(flags, log);
  announceReady({ role: 'registry', grpcPort: registry.port, metricsPort: metrics?.port });
  exitOnSignal(async () => {
    await registry.stop();
    await metrics?.stop();
    await state.close();
    await security.close();
  }, log, shutdownTimeoutMsFrom(flags));
}
