import { appendFileSync } from 'node:fs';
import type { HrTime } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/** One finished span as a line of MAAS_TRACE_FILE. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** api SpanKind number: 0 internal, 1 server, 2 client. */
  kind: number;
  service: string;
  pid: number;
  /** Epoch ms. */
  start: number;
  end: number;
  attributes: Record<string, unknown>;
  links: Array<{ traceId: string; spanId: string }>;
  /** api SpanStatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message?: string };
}

const ms = ([seconds, nanos]: HrTime) => seconds * 1000 + nanos / 1e6;

export function spanRecord(span: ReadableSpan): SpanRecord {
  const context = span.spanContext();
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    kind: span.kind,
    service: String(span.resource.attributes['service.name'] ?? ''),
    pid: process.pid,
    start: ms(span.startTime),
    end: ms(span.endTime),
    attributes: { ...span.attributes },
    links: span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
    status: { code: span.status.code, ...(span.status.message && { message: span.status.message }) },
  };
}

/**
 * Appends finished spans as JSON lines to a file (MAAS_TRACE_FILE). Several processes may share
 * the file: each export is one append of whole lines. For tests and local debugging; production
 * sends OTLP.
 */
export class JsonLinesSpanExporter implements SpanExporter {
  constructor(private readonly file: string) {}

  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    try {
      appendFileSync(this.file, spans.map((s) => `${JSON.stringify(spanRecord(s))}\n`).join(''));
      done({ code: 0 });
    } catch (error) {
      done({ code: 1, error: error as Error });
    }
  }

  async shutdown(): Promise<void> {}
  async forceFlush(): Promise<void> {}
}
