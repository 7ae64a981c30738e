import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createLogger, logLevelFromEnv } from './log.js';
import { bindInstruments } from './metrics.js';
import { logServedCalls } from './serving-calls.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';

/** Names one process to the telemetry backends: `maas-scheduler`, `maas-worker`, ... */
export interface TelemetryOptions {
  serviceName: string;
  /** The `role` of its log lines (`worker`, ...). */
  role: string;
  env?: NodeJS.ProcessEnv;
}

interface Installed {
  prometheus: PrometheusExporter;
  meterProvider: MeterProvider;
  shutdownTracing?: () => Promise<void>;
}

let installed: Installed | undefined;

/**
 * Whether the standard OTEL_* variables ask for traces: an exporter named in OTEL_TRACES_EXPORTER
 * (otlp, zipkin, console), or an OTLP endpoint; `none` and OTEL_SDK_DISABLED turn them off.
 */
export function tracesWanted(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((e) => e.trim()).filter(Boolean);
  if (exporters.includes('none')) return false;
  return exporters.length > 0 || Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

/**
 * Sets up this process's telemetry, once, before anything serves: meters exported for Prometheus
 * (always; scraped from /metrics when a metrics port is open), and traces through NodeSDK when the
 * OTEL_* variables ask for them (tracesWanted). NodeSDK then builds the exporter from those same
 * variables (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_[TRACES_]{ENDPOINT,PROTOCOL,HEADERS},
 * OTEL_BSP_*, OTEL_TRACES_SAMPLER, OTEL_PROPAGATORS; W3C trace context by default). It is loaded
 * only then, keeping start-up light otherwise.
 */
export async function initTelemetry(options: TelemetryOptions): Promise<void> {
  if (installed) return;
  const env = options.env ?? process.env;
  const prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, withoutTargetInfo: true });
  const meterProvider = new MeterProvider({ readers: [prometheus] });
  metrics.setGlobalMeterProvider(meterProvider);
  bindInstruments();
  installed = { prometheus, meterProvider };
  logServedCalls(logLevelFromEnv(env) === 'debug' ? createLogger(options.role, 'debug') : undefined);
  if (!tracesWanted(env)) return;
  const { NodeSDK, resources } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ? undefined : options.serviceName,
    // Meters are ours (above); no OTel logs; the process detector is left out: it records the command line, flags included.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
    resourceDetectors: [resources.envDetector, resources.hostDetector],
  });
  sdk.start();
  installed.shutdownTracing = () => sdk.shutdown();
}

/** Flushes spans still buffered (OTLP batches) and stops the providers. */
export async function shutdownTelemetry(): Promise<void> {
  const done = installed;
  installed = undefined;
  await Promise.allSettled([done?.shutdownTracing?.(), done?.meterProvider.shutdown()]);
}

/**
 * Serves this process's meters on `GET /metrics` at host:port (0 picks a free port). Requires
 * initTelemetry(); throws with the listen error (EADDRINUSE, ...).
 */
export function serveMetrics(host: string, port: number): Promise<MetricsServer> {
  if (!installed) throw new Error('initTelemetry() must run before serveMetrics()');
  return startMetricsServer(installed.prometheus, host, port);
}
