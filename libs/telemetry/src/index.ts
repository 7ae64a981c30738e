export { createLogger, logLevelFromEnv, redact, type Logger, type LogFields, type LogLevel } from './log.js';
export {
  activeTraceId,
  contextFromMetadata,
  grpcCodeOf,
  injectIntoMetadata,
  markFailed,
  startServerSpan,
  traceHttpRequest,
  tracer,
  withSpan,
  SpanKind,
  type Context,
  type MetadataCarrier,
  type Span,
  type SpanOptions,
} from './tracing.js';
export {
  observeReplicas,
  recentTraffic,
  recordBatchJobRows,
  recordModelLoad,
  recordRequest,
  trackLoadedVersion,
  type LoadedVersionGauge,
  type ReplicaCount,
  type RequestRecord,
} from './metrics.js';
export { batchMember, runBatch, runCompute, type BatchMember, type RunTarget } from './compute-spans.js';
export { enableTfServingMetrics, recordTfRequest, tfServingMetricsPage, tfServingMetricsText } from './tf-serving-metrics.js';
export { tfMetricName } from './prometheus-text.js';
export { TrafficWindow, type ModelTraffic, type TrafficPoint } from './traffic-window.js';
export { codeName } from './status-codes.js';
export { METRICS_PATH, type MetricsServer } from './metrics-server.js';
export { spanRecord, type SpanRecord } from './trace-file.js';
export { initTelemetry, serveMetrics, shutdownTelemetry, type TelemetryOptions } from './setup.js';
export { GrpcHealth, HEALTH_SERVICE, instrumentServer } from './grpc-introspection.js';
export { methodOf, recordGrpcCall, recordRestCall } from './serving-calls.js';
