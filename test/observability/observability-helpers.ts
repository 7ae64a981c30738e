import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as HEALTH_PROTO } from 'grpc-health-check';
import type { SpanRecord } from '@maas/telemetry';
import { loadTfServingClients, startMaas, type ServeProcess } from '@maas/test-support';
import { TestCluster } from '../cluster/cluster-harness.js';

/** A cluster whose roles serve /metrics on free ports; workers batch, the scheduler serves TF Serving's metrics. */
export class ObservedCluster extends TestCluster {
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

export function readSpans(file: string): SpanRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as SpanRecord);
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
