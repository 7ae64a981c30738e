import { readFile } from 'node:fs/promises';
import { defaultRuntimeOptions, usableCores, type RuntimeOptions } from '@maas/onnx-runtime';
import { resolve } from 'node:path';
import { childLocation, uriScheme } from '@maas/model-store';
import type { ModelServerConfig } from '@maas/protos';
import { batchingOptionsFromParameters } from '@maas/batching';
import { readModelServerConfig } from '@maas/registry';
import { parseMonitoringConfig, parseServingBatchingParameters, TextFormatError } from '@maas/text-proto';
import { enableTfServingMetrics, serveMetrics, setTfBatchThreadPool, tfServingMetricsPage, type Logger, type MetricsServer } from '@maas/telemetry';
import type { BatchingConfig } from '@maas/worker';
import { DEFAULT_MAX_MESSAGE_BYTES } from '@maas/serving-api';
import { DEFAULT_MAX_REST_BODY_BYTES, type RestPages } from '@maas/scheduler';
import { AuthConfigError, RoleSecurity, SslConfigError } from '@maas/auth';
import { DEFAULT_MAX_CONCURRENT_STREAMS, DEFAULT_MAX_IN_FLIGHT_PER_CLIENT, DEFAULT_REQUEST_LIMITS } from '@maas/limits';
import { FlagError, type FlagSpec, type FlagValues } from './flags.js';

/** Flags every listening role takes. */
export const LISTEN_FLAGS: Record<string, FlagSpec> = {
  port: { type: 'int', default: 8500, help: 'gRPC port (0 picks a free port)' },
  grpc_host: { type: 'string', default: '0.0.0.0', help: 'address the listeners bind' },
  grpc_max_message_bytes: { type: 'int', default: DEFAULT_MAX_MESSAGE_BYTES, help: 'largest gRPC message each way' },
  shutdown_timeout_seconds: { type: 'int', default: 30, help: 'on SIGTERM, exit (with 1) if in-flight work and hand-backs take longer than this' },
  help: { type: 'bool', default: false, help: 'print this help' },
};

/** The shutdown bound the role's flags ask for. */
export const shutdownTimeoutMsFrom = (flags: FlagValues) => (flags.shutdown_timeout_seconds as number) * 1000;

/** Flags of the roles that serve REST. */
export const REST_FLAGS: Record<string, FlagSpec> = {
  rest_api_port: { type: 'int', default: 8501, help: 'REST port (0 disables REST; -1 picks a free port)' },
  rest_api_max_body_bytes: { type: 'int', default: DEFAULT_MAX_REST_BODY_BYTES, help: 'largest REST request body; larger ones get 413' },
};

/** Where the model catalogue comes from (TF Serving's names). */
export const MODEL_SOURCE_FLAGS: Record<string, FlagSpec> = {
  model_name: { type: 'string', help: "model name (env MODEL_NAME, default 'default')" },
  model_base_path: { type: 'string', help: 'directory, file:// or s3:// URI holding <version>/model.onnx (env MODEL_BASE_PATH/MODEL_NAME)' },
  model_config_file: { type: 'string', help: 'text-format ModelServerConfig; when given, --model_name/--model_base_path are ignored' },
};

/** Flags of the cluster roles. */
export const CLUSTER_FLAGS: Record<string, FlagSpec> = {
  redis: { type: 'string', help: 'Redis URL: redis://, rediss:// or redis+sentinel://sentinels/master (default: env REDIS_URL)' },
  redis_prefix: { type: 'string', default: 'maas:', help: 'prefix of every Redis key, so clusters can share a Redis' },
  advertise_host: { type: 'string', default: '127.0.0.1', help: 'host other processes use to reach this one' },
  heartbeat_ms: { type: 'int', default: 1000, help: 'period of reports to Redis' },
};

/** How sessions are built on this host (a model's <base_path>/runtime.json overrides per model). */
export const RUNTIME_FLAGS: Record<string, FlagSpec> = {
  execution_providers: { type: 'string', default: 'cpu', help: "ordered onnxruntime providers, e.g. 'webgpu,cpu', or 'auto' (fastest that agrees with cpu)" },
  intra_op_threads: { type: 'int', help: 'threads per run inside an operator (default: 1 below 8 cores, else cores / session instances)' },
  session_instances: { type: 'int', help: 'sessions per model version (default: 1, or 2 on 8+ cores)' },
};

export function runtimeOptionsFrom(flags: FlagValues): RuntimeOptions {
  const defaults = defaultRuntimeOptions();
  const instances = (flags.session_instances as number | undefined) ?? defaults.instances;
  return {
    ...defaults,
    instances,
    // Instances asked for without threads split the cores between them.
    intraOpThreads:
      (flags.intra_op_threads as number | undefined) ??
      (flags.session_instances === undefined ? defaults.intraOpThreads : Math.max(1, Math.floor(usableCores() / instances))),
    executionProviders: String(flags.execution_providers).split(',').map((p) => p.trim()).filter(Boolean),
  };
}

/** TF Serving's batching switches (shared/spec §8). */
export const BATCHING_FLAGS: Record<string, FlagSpec> = {
  enable_batching: { type: 'bool', default: false, help: 'batch requests dynamically per model version' },
  batching_parameters_file: { type: 'string', help: 'text-format BatchingParameters plus MaaS extensions (docs/batching.md; needs --enable_batching)' },
  enable_per_model_batching_parameters: { type: 'bool', default: false, help: "read batching_params.pbtxt in each version directory" },
};

/** The batching config the flags ask for; start-up errors as TF Serving words them. */
export async function batchingConfigFrom(flags: FlagValues): Promise<BatchingConfig | undefined> {
  const file = flags.batching_parameters_file as string | undefined;
  if (!flags.enable_batching) {
    if (file) throw new FlagError('--batching_parameters_file requires --enable_batching');
    return undefined;
  }
  let text = '';
  if (file) {
    text = await readFile(file, 'utf8').catch((error: Error) => {
      throw new FlagError(`cannot read --batching_parameters_file ${file}: ${error.message}`);
    });
  }
  try {
    const params = parseServingBatchingParameters(text);
    // TF Serving's pool name when the file names none (shared/spec §8); its queuing_latency metric is labelled with it.
    setTfBatchThreadPool(params.threadPoolName ?? (file ? 'batch_threads' : 'model_server_batch_threads'));
    return {
      options: batchingOptionsFromParameters(params),
      perModel: flags.enable_per_model_batching_parameters as boolean,
      fixedBatchThreads: params.numBatchThreads !== undefined,
    };
  } catch (error) {
    if (error instanceof TextFormatError) throw new FlagError(`${file}: ${error.message}`);
    throw error;
  }
}

/** TF Serving's 0 means "no REST", so a free port is asked for with -1. */
export function restPortFrom(flag: number): number | undefined {
  if (flag === 0) return undefined;
  return flag < 0 ? 0 : flag;
}

export function redisUrlFrom(flags: FlagValues): string {
  const url = (flags.redis as string | undefined) ?? process.env.REDIS_URL;
  if (!url) throw new FlagError('--redis (or REDIS_URL) is required for the cluster roles');
  return url;
}

/** Single-model mode: one config entry from --model_name/--model_base_path or the container env. */
function singleModelConfig(name: string, basePath: string): ModelServerConfig {
  return { modelConfigList: { config: [{ name, basePath, modelType: 0, modelPlatform: 'onnx', versionLabels: {} }] } };
}

/** The config file's contents when one is named, else single-model mode from flags or env; undefined if neither. */
export async function modelConfigFrom(flags: FlagValues): Promise<{ config: ModelServerConfig; text?: string } | undefined> {
  const file = flags.model_config_file as string | undefined;
  if (file) return readModelServerConfig(file);
  const modelName = (flags.model_name as string | undefined) ?? process.env.MODEL_NAME ?? 'default';
  const envBase = process.env.MODEL_BASE_PATH;
  const basePath = (flags.model_base_path as string | undefined) ?? (envBase ? childLocation(envBase, process.env.MODEL_NAME ?? 'model') : undefined);
  // A URI is the store's to read as it is; only a path is made absolute.
  return basePath ? { config: singleModelConfig(modelName, uriScheme(basePath) ? basePath : resolve(basePath)) } : undefined;
}

/** Default Prometheus ports of each role (`GET /metrics`); manifests and scrape configs use these. */
export const DEFAULT_SCHEDULER_METRICS_PORT = 9464;
export const DEFAULT_REGISTRY_METRICS_PORT = 9465;
export const DEFAULT_WORKER_METRICS_PORT = 9466;
/** `maas serve` is the front door too. */
export const DEFAULT_SERVE_METRICS_PORT = DEFAULT_SCHEDULER_METRICS_PORT;

/** TF Serving's default path for prometheus_config without `path` (shared/spec §10). */
export const DEFAULT_MONITORING_PATH = '/monitoring/prometheus/metrics';

/** The Prometheus endpoint of one role, on the port default of that role. */
export function metricsFlags(defaultPort: number): Record<string, FlagSpec> {
  return {
    metrics_port: { type: 'int', default: defaultPort, help: 'port of GET /metrics, Prometheus text of this process (0 off, -1 a free port)' },
  };
}

/** TF Serving's monitoring switch, for the roles that serve REST. */
export const MONITORING_FLAGS: Record<string, FlagSpec> = {
  monitoring_config_file: { type: 'string', help: "text-format MonitoringConfig; prometheus_config { enable: true } serves TF Serving's metrics on the REST port" },
};

/**
 * Opens this role's /metrics (bound where the gRPC listener is). A port already taken only turns
 * metrics off for this process, with a warning: several roles on one host share the defaults.
 */
export async function metricsEndpointFrom(flags: FlagValues, log: Logger): Promise<MetricsServer | undefined> {
  const port = flags.metrics_port as number;
  if (port === 0) return undefined;
  try {
    return await serveMetrics(flags.grpc_host as string, port < 0 ? 0 : port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    log.warn(`--metrics_port=${port} is taken: /metrics is off for this process (pick another port, or -1 for a free one)`);
    return undefined;
  }
}

/**
 * The REST pages --monitoring_config_file asks for: TF Serving's metrics at its prometheus path
 * when `prometheus_config { enable: true }`. Errors are worded as start-up flag errors.
 */
export async function monitoringPagesFrom(flags: FlagValues): Promise<RestPages> {
  const file = flags.monitoring_config_file as string | undefined;
  if (!file) return new Map();
  const text = await readFile(file, 'utf8').catch((error: Error) => {
    throw new FlagError(`cannot read --monitoring_config_file ${file}: ${error.message}`);
  });
  let prometheus;
  try {
    prometheus = parseMonitoringConfig(text).prometheusConfig;
  } catch (error) {
    if (error instanceof TextFormatError) throw new FlagError(`${file}: ${error.message}`);
    throw error;
  }
  if (!prometheus?.enable) return new Map();
  if (flags.rest_api_port === 0) throw new FlagError('--monitoring_config_file enables Prometheus metrics, which are served on the REST port: set --rest_api_port');
  enableTfServingMetrics();
  return new Map([[prometheus.path || DEFAULT_MONITORING_PATH, tfServingMetricsPage]]);
}


/** Access control (docs/security.md): off until --auth_config_file names a file. */
export const AUTH_FLAGS: Record<string, FlagSpec> = {
  auth_config_file: { type: 'string', help: 'JSON: api_keys (name, key_sha256, roles per model), jwt (issuer, audience, jwks_file|jwks_url|secret), service_key; turns auth on' },
  audit_log_file: { type: 'string', help: "JSON lines of administrative calls (who, what, when, outcome); '-' is stderr (default: stderr when auth is on)" },
};

/** TLS of the external ports (TF Serving's flag and format). */
export const TLS_FLAGS: Record<string, FlagSpec> = {
  ssl_config_file: { type: 'string', help: 'text-format SSLConfig (server_key, server_cert, custom_ca: PEM text; client_verify) for the gRPC and REST ports' },
  ssl_config_poll_seconds: { type: 'int', default: 10, help: 'seconds between checks of the SSLConfig files for rotated certificates' },
};

/** mTLS between the cluster's roles. */
export const CLUSTER_TLS_FLAGS: Record<string, FlagSpec> = {
  cluster_ssl_config_file: { type: 'string', help: 'SSLConfig for the listeners and calls between roles (custom_ca verifies peers; client_verify makes it mTLS)' },
  ssl_config_poll_seconds: TLS_FLAGS.ssl_config_poll_seconds!,
};

/** Caps on one request, checked before it is decoded (RESOURCE_EXHAUSTED naming the flag). */
export const REQUEST_LIMIT_FLAGS: Record<string, FlagSpec> = {
  max_request_elements: { type: 'int', default: DEFAULT_REQUEST_LIMITS.maxRequestElements, help: 'tensor elements (declared shapes) or feature values in one request' },
  max_string_bytes: { type: 'int', default: DEFAULT_REQUEST_LIMITS.maxStringBytes, help: 'bytes of any one string in a request' },
  grpc_max_concurrent_streams: { type: 'int', default: DEFAULT_MAX_CONCURRENT_STREAMS, help: 'concurrent calls per HTTP/2 connection (0: no cap)' },
};

/** Caps of the front doors, per client and per REST call (429 naming the flag). */
export const CLIENT_LIMIT_FLAGS: Record<string, FlagSpec> = {
  max_in_flight_per_client: { type: 'int', default: DEFAULT_MAX_IN_FLIGHT_PER_CLIENT, help: 'requests in flight per client (API key or JWT subject, else address); 0: no cap' },
  rest_api_max_rows: { type: 'int', default: DEFAULT_REQUEST_LIMITS.maxRestRows, help: 'rows (instances or examples) in one REST request' },
};

/** The role's access control, TLS and limits from whichever of the flags above it takes. */
export function roleSecurityFrom(flags: FlagValues, log: (message: string) => void): RoleSecurity {
  const int = (name: string, fallback: number) => (flags[name] as number | undefined) ?? fallback;
  try {
    return new RoleSecurity({
      authConfigFile: flags.auth_config_file as string | undefined,
      auditLogFile: flags.audit_log_file as string | undefined,
      sslConfigFile: flags.ssl_config_file as string | undefined,
      clusterSslConfigFile: flags.cluster_ssl_config_file as string | undefined,
      tlsPollMs: int('ssl_config_poll_seconds', 10) * 1000,
      limits: {
        maxRequestElements: int('max_request_elements', DEFAULT_REQUEST_LIMITS.maxRequestElements),
        maxStringBytes: int('max_string_bytes', DEFAULT_REQUEST_LIMITS.maxStringBytes),
        maxRestRows: int('rest_api_max_rows', DEFAULT_REQUEST_LIMITS.maxRestRows),
      },
      maxInFlightPerClient: int('max_in_flight_per_client', 0),
      maxConcurrentStreams: int('grpc_max_concurrent_streams', DEFAULT_MAX_CONCURRENT_STREAMS),
      log,
    });
  } catch (error) {
    if (error instanceof AuthConfigError || error instanceof SslConfigError) throw new FlagError(error.message);
    throw error;
  }
}
