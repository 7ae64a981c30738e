import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';

export { SpanKind, type Context, type Span };

/** Our spans all come from one tracer; without initTelemetry() it is the API's no-op tracer. */
export function tracer() {
  return trace.getTracer('maas');
}

/** The parts of grpc-js Metadata propagation needs (kept structural so this lib needs no grpc types). */
export interface MetadataCarrier {
  get(key: string): Array<string | Buffer>;
  set(key: string, value: string): void;
  getMap(): Record<string, unknown>;
}

const metadataGetter: TextMapGetter<MetadataCarrier> = {
  keys: (carrier) => Object.keys(carrier.getMap()),
  get: (carrier, key) => {
    const values = carrier.get(key);
    return values.length === 0 ? undefined : values.map(String);
  },
};

const metadataSetter: TextMapSetter<MetadataCarrier> = { set: (carrier, key, value) => carrier.set(key, value) };

/** The caller's trace context from gRPC metadata (W3C `traceparent`), or the root context. */
export function contextFromMetadata(metadata: MetadataCarrier): Context {
  return propagation.extract(ROOT_CONTEXT, metadata, metadataGetter);
}

/** Writes the active trace context into outgoing gRPC metadata, so the next hop continues the trace. */
export function injectIntoMetadata<M extends MetadataCarrier>(metadata: M, from: Context = context.active()): M {
  propagation.inject(from, metadata, metadataSetter);
  return metadata;
}

/** A gRPC status code carried by an error (ServingError, grpc-js ServiceError), else UNKNOWN (2). */
export function grpcCodeOf(error: unknown): number {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : 2;
}

export function markFailed(span: Span, error: unknown): void {
  span.setAttribute('rpc.grpc.status_code', grpcCodeOf(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

export interface SpanOptions {
  attributes?: Attributes;
  kind?: SpanKind;
  links?: Link[];
}

/**
 * Runs `fn` in a new span, child of the active one, and ends the span when `fn` (sync or async)
 * finishes; a thrown error marks the span failed and is rethrown.
 */
export function withSpan<T>(name: string, fn: (span: Span) => T, options: SpanOptions = {}): T {
  return tracer().startActiveSpan(name, options, (span) => {
    try {
      const result = fn(span);
      if (result instanceof Promise) {
        return result.then(
          (value: unknown) => {
            span.end();
            return value;
          },
          (error: unknown) => {
            markFailed(span, error);
            span.end();
            throw error;
          },
        ) as T;
      }
      span.end();
      return result;
    } catch (error) {
      markFailed(span, error);
      span.end();
      throw error;
    }
  });
}

/**
 * A SERVER span for one incoming gRPC call, child of the caller's context from metadata. Returns
 * the context to run the handler in and a function that ends the span with the call's status.
 */
export function startServerSpan(path: string, metadata: MetadataCarrier): { context: Context; end: (error: unknown) => void } {
  const parent = contextFromMetadata(metadata);
  const [, service = '', method = ''] = /^\/([^/]+)\/(.+)$/.exec(path) ?? [];
  const span = tracer().startSpan(path.slice(1), { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method } }, parent);
  return {
    context: trace.setSpan(parent, span),
    end: (error) => {
      if (error) markFailed(span, error);
      else span.setAttribute('rpc.grpc.status_code', 0);
      span.end();
    },
  };
}

/** Runs one HTTP request's work in a SERVER span continuing the client's `traceparent` header, if any. */
export async function traceHttpRequest<T>(name: string, headers: Record<string, string | string[] | undefined>, fn: () => Promise<T>): Promise<T> {
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  const span = tracer().startSpan(name, { kind: SpanKind.SERVER }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), fn);
  } catch (error) {
    markFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** The active trace id, or undefined outside a sampled trace. */
export function activeTraceId(from: Context = context.active()): string | undefined {
  const span = trace.getSpanContext(from);
  return span && trace.isSpanContextValid(span) ? span.traceId : undefined;
}
