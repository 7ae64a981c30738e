import { TF_SERVING_LOAD_RETRIES, type LoadRetryPolicy } from '@maas/worker';
import { FlagError, flagsHelp, parseFlags, type FlagSpec, type FlagValues } from '../flags.js';
import {
  AUTH_FLAGS,
  BATCHING_FLAGS,
  CLIENT_LIMIT_FLAGS,
  REQUEST_LIMIT_FLAGS,
  TLS_FLAGS,
  DEFAULT_SERVE_METRICS_PORT,
  LISTEN_FLAGS,
  MODEL_SOURCE_FLAGS,
  MONITORING_FLAGS,
  REST_FLAGS,
  RUNTIME_FLAGS,
  batchingConfigFrom,
  metricsEndpointFrom,
  metricsFlags,
  modelConfigFrom,
  monitoringPagesFrom,
  restPortFrom,
  roleSecurityFrom,
  runtimeOptionsFrom,
  shutdownTimeoutMsFrom,
} from '../common-flags.js';
import { startSingleNode } from '../single-node.js';
import { announceReady, exitOnSignal, logger } from '../shutdown.js';

/** TF Serving's flag names and defaults (shared/spec §1, §9), plus a few of our own. */
const SERVE_FLAGS: Record<string, FlagSpec> = {
  ...LISTEN_FLAGS,
  ...REST_FLAGS,
  ...MODEL_SOURCE_FLAGS,
  ...BATCHING_FLAGS,
  ...RUNTIME_FLAGS,
  ...MONITORING_FLAGS,
  ...metricsFlags(DEFAULT_SERVE_METRICS_PORT),
  ...AUTH_FLAGS,
  ...TLS_FLAGS,
  ...REQUEST_LIMIT_FLAGS,
  ...CLIENT_LIMIT_FLAGS,
  file_system_poll_wait_seconds: { type: 'int', default: 1, help: 'seconds between scans for new versions (0 once, <0 never)' },
  model_config_file_poll_wait_seconds: { type: 'int', default: 0, help: 'seconds between re-reads of --model_config_file (0 never)' },
  allow_version_labels_for_unavailable_models: { type: 'bool', default: false, help: 'let new labels point at versions not loaded yet' },
  max_num_load_retries: { type: 'int', default: TF_SERVING_LOAD_RETRIES.maxRetries, help: 'times a version that failed to load is tried again' },
  load_retry_interval_micros: { type: 'int', default: TF_SERVING_LOAD_RETRIES.intervalMs * 1000, help: 'wait between load retries, in microseconds' },
  max_tensor_elements: { type: 'int', help: 'largest element count of one input tensor' },
};

function loadRetriesFrom(flags: FlagValues): LoadRetryPolicy {
  const maxRetries = flags.max_num_load_retries as number;
  const intervalMicros = flags.load_retry_interval_micros as number;
  if (maxRetries < 0) throw new FlagError(`--max_num_load_retries must be >= 0; got ${maxRetries}`);
  if (intervalMicros < 0) throw new FlagError(`--load_retry_interval_micros must be >= 0; got ${intervalMicros}`);
  return { maxRetries, intervalMs: intervalMicros / 1000 };
}

export async function serveCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, SERVE_FLAGS);
  if (flags.help) {
    console.log(`usage: maas serve [flags]\n${flagsHelp(SERVE_FLAGS)}`);
    return;
  }
  const log = logger('serve');
  const source = await modelConfigFrom(flags);
  if (!source) throw new FlagError('--model_base_path (or MODEL_BASE_PATH), or --model_config_file, is required');
  const configFile = flags.model_config_file as string | undefined;
  const filePollSeconds = flags.model_config_file_poll_wait_seconds as number;
  const security = roleSecurityFrom(flags, log);
  const node = await startSingleNode({
    host: flags.grpc_host as string,
    grpcPort: flags.port as number,
    restPort: restPortFrom(flags.rest_api_port as number),
    maxMessageBytes: flags.grpc_max_message_bytes as number,
    maxRestBodyBytes: flags.rest_api_max_body_bytes as number,
    maxTensorElements: flags.max_tensor_elements as number | undefined,
    pollSeconds: flags.file_system_poll_wait_seconds as number,
    allowUnavailableLabels: flags.allow_version_labels_for_unavailable_models as boolean,
    loadRetries: loadRetriesFrom(flags),
    batching: await batchingConfigFrom(flags),
    runtime: runtimeOptionsFrom(flags),
    config: source.config,
    configFile: configFile && filePollSeconds > 0 ? { path: configFile, text: source.text ?? '', pollSeconds: filePollSeconds } : undefined,
    restPages: await monitoringPagesFrom(flags),
    security,
    log,
  });
  const metrics = await metricsEndpointFrom(flags, log);
  const names = source.config.modelConfigList?.config.map((m) => `'${m.name}' from ${m.basePath}`) ?? [];
  log(`serving ${names.join(', ')}`);
  // One machine-readable line so scripts and tests learn the bound ports (useful with --port=0).
  announceReady({ grpcPort: node.grpcPort, restPort: node.restPort, metricsPort: metrics?.port });
  exitOnSignal(async () => {
    await node.stop();
    await metrics?.stop();
    await security.close();
  }, log, shutdownTimeoutMsFrom(flags));
}
