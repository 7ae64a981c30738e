import { ClusterState } from '@maas/cluster-state';
import { Registry } from '@maas/registry';
import { flagsHelp, parseFlags, type FlagSpec } from '../flags.js';
import { CLUSTER_FLAGS, LISTEN_FLAGS, MODEL_SOURCE_FLAGS, modelConfigFrom, redisUrlFrom } from '../common-flags.js';
import { announceReady, exitOnSignal, logger } from '../shutdown.js';

const REGISTRY_FLAGS: Record<string, FlagSpec> = {
  ...LISTEN_FLAGS,
  ...CLUSTER_FLAGS,
  ...MODEL_SOURCE_FLAGS,
  port: { type: 'int', default: 8510, help: 'gRPC port of ModelService and RegistryAdmin' },
};

export async function registryCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, REGISTRY_FLAGS);
  if (flags.help) return console.log(`usage: maas registry [flags]\n${flagsHelp(REGISTRY_FLAGS)}`);
  const log = logger('registry');
  const state = ClusterState.connect(redisUrlFrom(flags), flags.redis_prefix as string);
  const registry = new Registry({
    state,
    bindHost: flags.grpc_host as string,
    advertiseHost: flags.advertise_host as string,
    port: flags.port as number,
    maxMessageBytes: flags.grpc_max_message_bytes as number,
    initialConfig: (await modelConfigFrom(flags))?.config,
    heartbeatMs: flags.heartbeat_ms as number,
    log,
  });
  await registry.start();
  announceReady({ role: 'registry', grpcPort: registry.port });
  exitOnSignal(async () => {
    await registry.stop();
    await state.close();
  }, log);
}
