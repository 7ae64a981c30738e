import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { bindInstruments } from './metrics.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';

/** Names one process to the telemetry backends: `maas-scheduler`, `maas-worker`, ... */
export interface TelemetryOptions {
  serviceName: string;
  env?: NodeJS.ProcessEnv;
}

interface Installed {
  prometheus: PrometheusExporter;
  meterProvider: MeterProvider;
  shutdownTracing?: () => Promise<void>;
}

let installed: Installed | undefined;

/** Where finished spans go, from the standard OTEL_* variables plus MAAS_TRACE_FILE; none means no tracing. */
async function spanProcessors(env: NodeJS.ProcessEnv): Promise<SpanProcessor[]> {
  const { BatchSpanProcessor, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const processors: SpanProcessor[] = [];
  if (env.MAAS_TRACE_FILE) {
    const { JsonLinesSpanExporter } = await import('./trace-file.js');
    processors.push(new SimpleSpanProcessor(new JsonLinesSpanExporter(env.MAAS_TRACE_FILE)));
  }
  const otlp = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (otlp && env.OTEL_TRACES_EXPORTER !== 'none') {
    // The exporter reads the endpoint, headers and timeouts from the same OTEL_* variables.
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  }
  return processors;
}

/**
 * Sets up this process's telemetry, once, before anything serves: meters exported for Prometheus
 * (always; scraped from /metrics when a metrics port is open), and traces through NodeSDK when an
 * exporter is configured (OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, or MAAS_TRACE_FILE) and
 * OTEL_SDK_DISABLED is not set. NodeSDK is loaded only then, keeping start-up light otherwise.
 * W3C trace context is the propagator (OTEL_PROPAGATORS may change it).
 */
export async function initTelemetry(options: TelemetryOptions): Promise<void> {
  if (installed) return;
  const env = options.env ?? process.env;
  const prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, withoutTargetInfo: true });
  const meterProvider = new MeterProvider({ readers: [prometheus] });
  metrics.setGlobalMeterProvider(meterProvider);
  bindInstruments();
  installed = { prometheus, meterProvider };
  if (env.OTEL_SDK_DISABLED === 'true') return;
  const processors = await spanProcessors(env);
  if (processors.length === 0) return;
  const { NodeSDK, resources } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ? undefined : options.serviceName,
    spanProcessors: processors,
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
