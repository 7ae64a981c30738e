import { context, trace, type Context, type Link, type Span } from '@opentelemetry/api';
import { recordBatchSize, recordCompute, recordQueueWait } from './metrics.js';
import { recordTfBatch, recordTfBatchedRequest, recordTfRuntime } from './tf-serving-metrics.js';
import { activeTraceId, markFailed, tracer, withSpan } from './tracing.js';

/** Which loaded version runs, and for which TF Serving API (runtime_latency's label). */
export interface RunTarget {
  model: string;
  version: number;
  api: string;
}

/** A request waiting in a batch queue: where its trace is, when it arrived, how many rows (and input tensors) it brings. */
export interface BatchMember {
  context: Context;
  submittedAt: number;
  rows: number;
  inputs: number;
}

/** Epoch ms with sub-ms precision (span times). */
const nowMs = () => performance.timeOrigin + performance.now();

function targetAttributes(target: RunTarget) {
  return { 'maas.model': target.model, 'maas.version': target.version };
}

/** One onnxruntime run of one request (no batching): a `compute` span and the compute metrics. */
export async function runCompute<T>(target: RunTarget, run: () => Promise<T>): Promise<T> {
  const started = nowMs();
  try {
    return await withSpan('compute', run, { attributes: targetAttributes(target) });
  } finally {
    const seconds = (nowMs() - started) / 1000;
    recordCompute(target.model, target.version, seconds);
    recordTfRuntime(target.model, target.api, seconds);
  }
}

/** Call when a request enters the batch queue, in the request's own context. */
export function batchMember(rows: number, inputs: number): BatchMember {
  return { context: context.active(), submittedAt: nowMs(), rows, inputs };
}

/**
 * Runs one formed batch. Each request's own trace gets a `queue` span (arrival until the batch
 * formed) and a `batch` span carrying the batch size and the trace ids of every request sharing
 * it (also as links), with a `compute` child for the shared onnxruntime run, so every request's
 * trace is complete on its own. Records queue, batch-size and compute metrics.
 */
export async function runBatch<T>(target: RunTarget, members: readonly BatchMember[], paddedRows: number, run: () => Promise<T>): Promise<T> {
  const formedAt = nowMs();
  const rows = members.reduce((n, m) => n + m.rows, 0);
  const traceIds = [...new Set(members.map((m) => activeTraceId(m.context)).filter((id): id is string => id !== undefined))];
  const links: Link[] = members.flatMap((m) => {
    const span = trace.getSpanContext(m.context);
    return span && trace.isSpanContextValid(span) ? [{ context: span }] : [];
  });
  const attributes = {
    ...targetAttributes(target),
    'maas.batch.size': rows,
    'maas.batch.padded_size': paddedRows,
    'maas.batch.requests': members.length,
    'maas.batch.trace_ids': traceIds,
  };
  const spans: Array<{ batch: Span; compute: Span }> = members.map((member) => {
    const queuedSeconds = (formedAt - member.submittedAt) / 1000;
    recordQueueWait(target.model, target.version, queuedSeconds);
    recordTfBatchedRequest(member.inputs, member.rows, queuedSeconds);
    tracer().startSpan('queue', { startTime: member.submittedAt, attributes: { ...targetAttributes(target), 'maas.rows': member.rows } }, member.context).end(formedAt);
    const batch = tracer().startSpan('batch', { startTime: formedAt, attributes, links }, member.context);
    const compute = tracer().startSpan('compute', { attributes: targetAttributes(target) }, trace.setSpan(member.context, batch));
    return { batch, compute };
  });
  recordBatchSize(target.model, target.version, rows);
  recordTfBatch(paddedRows, rows);
  const started = nowMs();
  try {
    return await run();
  } catch (error) {
    for (const { batch, compute } of spans) {
      markFailed(compute, error);
      markFailed(batch, error);
    }
    throw error;
  } finally {
    const ended = nowMs();
    for (const { batch, compute } of spans) {
      compute.end(ended);
      batch.end(ended);
    }
    recordCompute(target.model, target.version, (ended - started) / 1000);
    recordTfRuntime(target.model, target.api, (ended - started) / 1000);
  }
}
