import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as HEALTH_PROTO } from 'grpc-health-check';
import { buildOnnxModel, loadTfServingClients, startMaas, type ServeProcess } from '@maas/test-support';
import onnxProto from 'onnx-proto';
import { BatchJobsClient } from '@maas/protos';
import { BatchTestCluster } from '../batch/batch-harness.js';

const { onnx } = onnxProto;

/**
 * A cluster whose roles serve /metrics on free ports; workers batch, the scheduler serves TF
 * Serving's metrics and batch jobs (a BatchJobs client as in the batch-job tests).
 */
export class ObservedCluster extends BatchTestCluster {
  constructor(private readonly batchTimeoutMicros = 1_000_000) {
    super();
  }

  override startWorker(): Promise<ServeProcess> {
    const parameters = join(this.modelRoot, 'batching.config');
    if (!existsSync(parameters)) {
      writeFileSync(parameters, `max_batch_size { value: 3 } batch_timeout_micros { value: ${this.batchTimeoutMicros} } num_batch_threads { value: 1 }`);
    }
    return startMaas(['worker', ...this.redisFlags(), '--port=0', '--metrics_port=-1', '--enable_batching', `--batching_parameters_file=${parameters}`]);
  }

  override async startScheduler(): Promise<void> {
    const monitoring = join(this.modelRoot, 'monitoring.config');
    writeFileSync(monitoring, 'prometheus_config { enable: true }');
    this.scheduler = await startMaas([
      'scheduler',
      ...this.redisFlags(),
      '--port=0',
      '--rest_api_port=-1',
      '--metrics_port=-1',
      `--monitoring_config_file=${monitoring}`,
      '--refresh_ms=100',
      '--placement_ms=300',
    ]);
    this.clients?.close();
    this.clients = loadTfServingClients(`127.0.0.1:${this.scheduler.grpcPort}`);
    this.batch?.close();
    this.batch = new BatchJobsClient(`127.0.0.1:${this.scheduler.grpcPort}`, grpc.credentials.createInsecure());
  }
}

export async function httpText(port: number, path: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
  return response.text();
}

/**
 * The value of a Prometheus sample: the line named `name` whose labels include every given pair
 * (summed when several lines match); undefined when none does.
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([^\s{]+)(\{.*\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) total = (total ?? 0) + Number(match[3]);
  }
  return total;
}

/** One finished span as an OTLP/JSON export carried it, flattened for assertions. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  /** The resource's service.name. */
  service: string;
  /** Epoch ms. */
  start: number;
  end: number;
  attributes: Record<string, unknown>;
  links: Array<{ traceId: string; spanId: string }>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: number;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean; arrayValue?: { values?: OtlpValue[] } };
type OtlpAttributes = Array<{ key: string; value: OtlpValue }> | undefined;

function otlpValue(value: OtlpValue): unknown {
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(otlpValue);
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.doubleValue ?? value.boolValue;
}

const otlpAttributes = (attributes: OtlpAttributes) => Object.fromEntries((attributes ?? []).map((a) => [a.key, otlpValue(a.value)]));
const nanosToMs = (nanos: string | number) => Number(BigInt(String(nanos))) / 1e6;

/**
 * An OTLP/HTTP trace receiver in the test process that keeps every span in memory: the processes
 * under test export to it through the standard variables (`otelEnv()`), as they would to a collector.
 */
export class InMemoryOtlpReceiver {
  readonly spans: SpanRecord[] = [];
  private server?: Server;
  private port = 0;

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.method !== 'POST' || request.url !== '/v1/traces' || !String(request.headers['content-type']).startsWith('application/json')) {
          response.writeHead(400).end();
          return;
        }
        this.accept(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        response.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** The standard OTEL_* variables pointing every process at this receiver (OTLP over HTTP/JSON, flushed every 100 ms). */
  otelEnv(): NodeJS.ProcessEnv {
    return { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${this.port}`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '100' };
  }

  private accept(body: { resourceSpans?: Array<{ resource?: { attributes?: OtlpAttributes }; scopeSpans?: Array<{ spans?: any[] }> }> }): void {
    for (const resourceSpans of body.resourceSpans ?? []) {
      const service = String(otlpAttributes(resourceSpans.resource?.attributes)['service.name'] ?? '');
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          this.spans.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId || undefined,
            name: span.name,
            kind: span.kind,
            service,
            start: nanosToMs(span.startTimeUnixNano),
            end: nanosToMs(span.endTimeUnixNano),
            attributes: otlpAttributes(span.attributes),
            links: (span.links ?? []).map((l: { traceId: string; spanId: string }) => ({ traceId: l.traceId, spanId: l.spanId })),
            status: span.status?.code ?? 0,
          });
        }
      }
    }
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A W3C traceparent for a fresh trace, as a client would send it. */
export function clientTraceparent(): { traceparent: string; traceId: string; spanId: string } {
  const hex = (bytes: number) => Array.from({ length: bytes }, () => Math.floor(Math.random() * 256).toString(16).padStart(2, '0')).join('');
  const traceId = hex(16);
  const spanId = hex(8);
  return { traceparent: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

type HealthClient = grpc.Client & {
  check(request: { service: string }, callback: (error: grpc.ServiceError | null, response: { status: string }) => void): void;
  watch(request: { service: string }): grpc.ClientReadableStream<{ status: string }>;
};

/** A grpc.health.v1.Health client built the way generic tools build one (from the .proto at run time). */
export function healthClient(address: string): HealthClient {
  const definition = loadSync(HEALTH_PROTO, { keepCase: true, enums: String, defaults: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
  return new loaded.grpc.health.v1.Health(address, grpc.credentials.createInsecure()) as unknown as HealthClient;
}

/** SERVING / NOT_SERVING, or the gRPC error code name when the server does not know the service. */
export function healthOf(client: HealthClient, service: string): Promise<string> {
  return new Promise((resolve) => client.check({ service }, (error, response) => resolve(error ? grpc.status[error.code] : response.status)));
}

type ReflectionAnswer = Record<string, any>;

/** Asks a server's grpc.reflection.v1 one question, as grpcurl would; resolves with the first answer. */
export async function askReflection(address: string, request: Record<string, string>): Promise<ReflectionAnswer> {
  const definition = loadSync('grpc/reflection/v1/reflection.proto', {
    includeDirs: [join(process.cwd(), 'node_modules/@grpc/reflection/build/proto')],
    keepCase: true,
    defaults: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } } };
  const client = new loaded.grpc.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure());
  try {
    const stream = (client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<unknown, ReflectionAnswer> }).ServerReflectionInfo();
    const answers: ReflectionAnswer[] = [];
    stream.on('data', (answer: ReflectionAnswer) => answers.push(answer));
    stream.write(request);
    stream.end();
    await once(stream, 'end');
    return answers[0]!;
  } finally {
    client.close();
  }
}

/** The services a server's reflection lists. */
export async function reflectedServices(address: string): Promise<string[]> {
  return (await askReflection(address, { list_services: '' })).list_services_response.service.map((s: { name: string }) => s.name);
}

/**
 * y = x + 1 (float32) through a lookup table of `megabytes` MiB of ones (Gather at Cast(x)), so a
 * model whose loaded size is known; onnxruntime cannot fold the table away, the input picks from it.
 */
export function tableAdderModel(megabytes: number): Uint8Array {
  const entries = (megabytes * 2 ** 20) / 4;
  const model = onnx.ModelProto.decode(
    buildOnnxModel({
      inputs: [{ name: 'x', type: 'float32', shape: ['batch', 'n'] }],
      outputs: [{ name: 'y', type: 'float32', shape: ['batch', 'n'] }],
      initializers: [{ name: 'table', type: 'float32', dims: [1], values: [1] }],
      nodes: [
        { op: 'Cast', inputs: ['x'], outputs: ['index'], attributes: { to: 7 } },
        { op: 'Gather', inputs: ['table', 'index'], outputs: ['one'] },
        { op: 'Add', inputs: ['x', 'one'], outputs: ['y'] },
      ],
    }),
  );
  // The table as raw bytes: encoding millions of repeated floats one by one takes seconds.
  const table = model.graph!.initializer![0]!;
  table.dims = [entries];
  table.floatData = [];
  table.rawData = new Uint8Array(new Float32Array(entries).fill(1).buffer);
  return onnx.ModelProto.encode(model).finish();
}
