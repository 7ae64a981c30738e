export { createLogger, logLevelFromEnv, type Logger, type LogFields } from './log.js';
export { injectIntoMetadata, traceHttpRequest, withSpan, SpanKind } from './tracing.js';
export {
  observeReplicas,
  observeWorkersWanted,
  recentTraffic,
  recordBatchJobRows,
  recordModelLoad,
  trackLoadedVersion,
} from './metrics.js';
export { batchMember, runBatch, runCompute, type BatchMember, type RunTarget } from './compute-spans.js';
export { enableTfServingMetrics, setTfBatchThreadPool, tfServingMetricsPage } from './tf-serving-metrics.js';
export { tfMetricName } from './prometheus-text.js';
export { TrafficWindow, type ModelTraffic } from './traffic-window.js';
export { METRICS_PATH, type MetricsServer } from './metrics-server.js';
export { initTelemetry, serveMetrics, shutdownTelemetry, tracesWanted } from './setup.js';
export { GrpcHealth, instrumentServer } from './grpc-introspection.js';
export { recordGrpcCall, recordRestCall } from './serving-calls.js';
