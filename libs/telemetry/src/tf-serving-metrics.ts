import type { IncomingMessage, ServerResponse } from 'node:http';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { createNoopMeter, type Counter, type Histogram } from '@opentelemetry/api';
import { codeName } from './status-codes.js';
import { tfMetricText } from './prometheus-text.js';

/*
 * TF Serving's own metric names (shared/spec §10), for the REST port's
 * /monitoring/prometheus/metrics when --monitoring_config_file enables it. They live on a
 * MeterProvider of their own so they neither show up on /metrics under mangled names nor cost
 * anything until enabled.
 */

/** TF's latency buckets: 10 µs x 1.8^i, 33 of them. */
const TF_LATENCY_MICROS = Array.from({ length: 33 }, (_, i) => 10 * 1.8 ** i);
/** batching_session's queuing_latency: 100 µs x 1.2^i, 52 of them (batching_session.cc). */
const TF_QUEUING_MICROS = Array.from({ length: 52 }, (_, i) => 100 * 1.2 ** i);
/** batching_util.h's batch-size buckets: 1 x 2^i, 14 of them. */
const TF_BATCH_SIZES = Array.from({ length: 14 }, (_, i) => 2 ** i);

/** Hands the collected metrics to the renderer on demand (no periodic export). */
class OnDemandReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

interface TfInstruments {
  requestCount: Counter;
  requestLatency: Histogram;
  runtimeLatency: Histogram;
  inputBatchSize: Histogram;
  processedBatchSize: Histogram;
  paddingSize: Histogram;
  queuingLatency: Histogram;
  wrappedRunCount: Counter;
}

let reader: OnDemandReader | undefined;
let instruments: TfInstruments | undefined;
/** queuing_latency's label: the BatchingParameters thread_pool_name in force (shared/spec §8 defaults). */
let threadPoolName = 'batch_threads';

/** Names the batching thread pool for queuing_latency, as TF labels it. */
export function setTfBatchThreadPool(name: string): void {
  threadPoolName = name;
}

function noopInstruments(): TfInstruments {
  const meter = createNoopMeter();
  const c = meter.createCounter('noop');
  const h = meter.createHistogram('noop');
  return { requestCount: c, requestLatency: h, runtimeLatency: h, inputBatchSize: h, processedBatchSize: h, paddingSize: h, queuingLatency: h, wrappedRunCount: c };
}

/** Starts recording TF Serving's metrics in this process (idempotent). */
export function enableTfServingMetrics(): void {
  if (reader) return;
  reader = new OnDemandReader();
  const meter = new MeterProvider({ readers: [reader] }).getMeter('tensorflow_serving');
  const latency = (name: string, description: string) =>
    meter.createHistogram(name, { description, unit: 'us', advice: { explicitBucketBoundaries: TF_LATENCY_MICROS } });
  const sizes = (name: string, description: string) => meter.createHistogram(name, { description, advice: { explicitBucketBoundaries: TF_BATCH_SIZES } });
  instruments = {
    requestCount: meter.createCounter('tensorflow/serving/request_count', { description: 'The total number of requests.' }),
    requestLatency: latency('tensorflow/serving/request_latency', 'Distribution of wall time (in microseconds) for Tensorflow Serving request.'),
    runtimeLatency: latency('tensorflow/serving/runtime_latency', 'Distribution of wall time (in microseconds) for Tensorflow runtime.'),
    // batching_session's own metrics carry no model name (batching_session.cc, batching_util.h).
    inputBatchSize: sizes('tensorflow/serving/batching_session/input_batch_size', 'Tracks the batch size distribution on the inputs.'),
    processedBatchSize: sizes('tensorflow/serving/batching_session/processed_batch_size', 'Tracks the batch size distribution on processing.'),
    paddingSize: sizes('tensorflow/serving/batching_session/padding_size', 'Tracks the padding size distribution on batches.'),
    queuingLatency: meter.createHistogram('tensorflow/serving/batching_session/queuing_latency', {
      description: 'Distribution of wall time spent (in microseconds) in queuing',
      unit: 'us',
      advice: { explicitBucketBoundaries: TF_QUEUING_MICROS },
    }),
    wrappedRunCount: meter.createCounter('tensorflow/serving/batching_session/wrapped_run_count', { description: 'Total count of run calls on the wrapped session' }),
  };
}

function tf(): TfInstruments {
  return (instruments ??= noopInstruments());
}

/**
 * One request at a front end. TF counts every REST /v1 call and gRPC Predict/Classify/Regress;
 * latency only for successful ones. `api` is the gRPC method, the REST verb, or '' for REST GETs.
 */
export function recordTfRequest(model: string, api: string, entrypoint: 'GRPC' | 'REST', code: number, seconds: number): void {
  const m = tf();
  m.requestCount.add(1, { model_name: model, status: codeName(code) });
  if (code === 0) m.requestLatency.record(seconds * 1e6, { model_name: model, API: api, entrypoint });
}

export function recordTfRuntime(model: string, api: string, seconds: number): void {
  tf().runtimeLatency.record(seconds * 1e6, { model_name: model, API: api, runtime: 'onnxruntime' });
}

/** A request taken into a batch: its rows (once per input tensor, as TF records them) and how long it queued. */
export function recordTfBatchedRequest(inputs: number, rows: number, queuedSeconds: number): void {
  const m = tf();
  for (let i = 0; i < inputs; i++) m.inputBatchSize.record(rows);
  m.queuingLatency.record(queuedSeconds * 1e6, { thread_pool_name: threadPoolName });
}

/** One executed batch (one run of the wrapped session): its padded size and how much of it is padding. */
export function recordTfBatch(paddedRows: number, rows: number): void {
  const m = tf();
  m.processedBatchSize.record(paddedRows);
  m.paddingSize.record(paddedRows - rows, { execution_batch_size: String(paddedRows) });
  m.wrappedRunCount.add(1);
}

/** The exposition text, or undefined when the metrics were never enabled. */
export async function tfServingMetricsText(): Promise<string | undefined> {
  if (!reader) return undefined;
  const { resourceMetrics } = await reader.collect();
  // TF's exporter walks its registry's std::map: metrics in name order.
  const all = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).sort((a, b) => (a.descriptor.name < b.descriptor.name ? -1 : 1));
  return all.map(tfMetricText).join('');
}

/** GET handler for the monitoring path: the text, as TF serves it (text/plain). */
export async function tfServingMetricsPage(_request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = (await tfServingMetricsText()) ?? '';
  response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4', 'Content-Length': Buffer.byteLength(body) }).end(body);
}
