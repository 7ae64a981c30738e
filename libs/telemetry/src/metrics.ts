import { metrics, type Counter, type Histogram, type Meter } from '@opentelemetry/api';
import { codeName } from './status-codes.js';
import { TrafficWindow } from './traffic-window.js';

/*
 * MaaS's own meters. Names are already Prometheus-shaped (the exporter only adds `_total` to
 * counters), so `maas_request_duration_seconds` reads the same in code, docs and queries.
 * Instruments are created on first use from the global MeterProvider that initTelemetry()
 * registers; without it they are the API's no-ops, so libraries and in-process tests pay nothing.
 */

const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/** A loaded model version, observed by the gauges while it is tracked. */
export interface LoadedVersionGauge {
  model: string;
  version: number;
  memoryBytes: number;
  /** Rows waiting in its batch queue (0 without batching). */
  queuedRows(): number;
}

export interface ReplicaCount {
  model: string;
  wanted: number;
  ready: number;
}

interface Instruments {
  requests: Counter;
  requestDuration: Histogram;
  queueDuration: Histogram;
  computeDuration: Histogram;
  batchSize: Histogram;
  modelLoadDuration: Histogram;
  modelLoadFailures: Counter;
  batchJobRows: Counter;
}

const loadedVersions = new Set<LoadedVersionGauge>();
let replicaSource: (() => readonly ReplicaCount[]) | undefined;
let workersWantedSource: (() => ReadonlyArray<{ kind: string; count: number }>) | undefined;
let instruments: Instruments | undefined;

/** Per-model throughput and latency of this process's front door, for the dashboard. */
export const recentTraffic = new TrafficWindow();

function create(meter: Meter): Instruments {
  const created: Instruments = {
    requests: meter.createCounter('maas_requests', { description: 'Requests by model, version, method, status and entrypoint (grpc or rest)' }),
    requestDuration: meter.createHistogram('maas_request_duration_seconds', {
      description: 'End-to-end latency of a request as this process served it',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    queueDuration: meter.createHistogram('maas_queue_duration_seconds', {
      description: 'Time a request waited in the batch queue before its batch formed',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    computeDuration: meter.createHistogram('maas_compute_duration_seconds', {
      description: 'Time inside onnxruntime per run (one batch, or one request without batching)',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    batchSize: meter.createHistogram('maas_batch_size', {
      description: 'Rows per executed batch, before padding',
      advice: { explicitBucketBoundaries: BATCH_SIZE_BUCKETS },
    }),
    modelLoadDuration: meter.createHistogram('maas_model_load_duration_seconds', {
      description: 'Time to load and warm a model version, by outcome',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    }),
    modelLoadFailures: meter.createCounter('maas_model_load_failures', { description: 'Model versions that failed to load' }),
    batchJobRows: meter.createCounter('maas_batch_job_rows', { description: 'Rows of batch jobs processed, by job, model and outcome (done or failed)' }),
  };
  meter
    .createObservableGauge('maas_queue_depth', { description: 'Rows waiting in each loaded version’s batch queue' })
    .addCallback((result) => {
      for (const v of loadedVersions) result.observe(v.queuedRows(), { model: v.model, version: String(v.version) });
    });
  meter
    .createObservableGauge('maas_model_memory_bytes', { description: 'Resident memory each loaded model version added when it loaded', unit: 'By' })
    .addCallback((result) => {
      for (const v of loadedVersions) result.observe(v.memoryBytes, { model: v.model, version: String(v.version) });
    });
  meter
    .createObservableGauge('maas_replicas_wanted', { description: 'Replicas the placement wants per model' })
    .addCallback((result) => {
      for (const r of replicaSource?.() ?? []) result.observe(r.wanted, { model: r.model });
    });
  meter
    .createObservableGauge('maas_replicas_ready', { description: 'Replicas with an AVAILABLE version per model' })
    .addCallback((result) => {
      for (const r of replicaSource?.() ?? []) result.observe(r.ready, { model: r.model });
    });
  meter
    .createObservableGauge('maas_workers_wanted', { description: 'Workers of each kind (cpu, gpu) the wanted replicas need: the fleet now plus the missing ones' })
    .addCallback((result) => {
      for (const w of workersWantedSource?.() ?? []) result.observe(w.count, { kind: w.kind });
    });
  return created;
}

function meters(): Instruments {
  return (instruments ??= create(metrics.getMeter('maas')));
}

/** (Re)creates the instruments on the global MeterProvider; initTelemetry calls it once it registered one. */
export function bindInstruments(): void {
  instruments = create(metrics.getMeter('maas'));
}

export interface RequestRecord {
  model: string;
  /** The version that answered, or '' when none did (or the caller cannot tell). */
  version: string;
  /** TF Serving method name: Predict, Classify, Regress, MultiInference, GetModelMetadata, ... */
  method: string;
  /** gRPC status code; 0 is OK. */
  code: number;
  entrypoint: 'grpc' | 'rest';
  seconds: number;
}

export function recordRequest(r: RequestRecord): void {
  const status = codeName(r.code);
  const m = meters();
  m.requests.add(1, { model: r.model, version: r.version, method: r.method, status, entrypoint: r.entrypoint });
  m.requestDuration.record(r.seconds, { model: r.model, method: r.method, status, entrypoint: r.entrypoint });
  if (r.model) recentTraffic.record(r.model, r.seconds * 1000, r.code === 0);
}

export function recordQueueWait(model: string, version: number, seconds: number): void {
  meters().queueDuration.record(seconds, { model, version: String(version) });
}

export function recordCompute(model: string, version: number, seconds: number): void {
  meters().computeDuration.record(seconds, { model, version: String(version) });
}

export function recordBatchSize(model: string, version: number, rows: number): void {
  meters().batchSize.record(rows, { model, version: String(version) });
}

export function recordModelLoad(model: string, version: number, seconds: number, ok: boolean): void {
  const m = meters();
  m.modelLoadDuration.record(seconds, { model, version: String(version), outcome: ok ? 'loaded' : 'failed' });
  if (!ok) m.modelLoadFailures.add(1, { model, version: String(version) });
}

/**
 * For batch jobs: rows that got a prediction (`done`) and rows that got an error line (`failed`),
 * per job and model, as the worker records them in the job's progress; the counters are
 * `maas_batch_job_rows_total{job,model,outcome}`.
 */
export function recordBatchJobRows(job: string, model: string, rows: { done?: number; failed?: number }): void {
  const m = meters();
  if (rows.done) m.batchJobRows.add(rows.done, { job, model, outcome: 'done' });
  if (rows.failed) m.batchJobRows.add(rows.failed, { job, model, outcome: 'failed' });
}

/** Reports a loaded version to the queue-depth and memory gauges; call the result when it unloads. */
export function trackLoadedVersion(version: LoadedVersionGauge): () => void {
  loadedVersions.add(version);
  return () => loadedVersions.delete(version);
}

/** Where the fleet size an external autoscaler should reach comes from (the placement leader). */
export function observeWorkersWanted(source: () => ReadonlyArray<{ kind: string; count: number }>): void {
  workersWantedSource = source;
}

/** Where replicas wanted vs ready come from (the scheduler's view). */
export function observeReplicas(source: () => readonly ReplicaCount[]): void {
  replicaSource = source;
}
