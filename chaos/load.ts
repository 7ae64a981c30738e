import * as grpc from '@grpc/grpc-js';
import { DataType, PredictRequest, PredictResponse } from '@maas/protos';
import { MODEL } from './cluster.js';

const identity = (bytes: Buffer) => bytes;
const PREDICT = '/tensorflow.serving.PredictionService/Predict';
/** Codes after which a client tries again while its deadline allows (what a gRPC retry policy would do). */
const RETRYABLE = new Set([grpc.status.UNAVAILABLE]);

export interface LoadOptions {
  clients: number;
  deadlineMs: number;
}

/** What happened to the requests: final outcomes, and every failed attempt on the way. */
export class LoadRecord {
  readonly outcomes = new Map<string, number>();
  readonly attemptErrors = new Map<string, number>();
  /** The first failed attempts, with when and what the server said, for a report that has to explain them. */
  readonly firstFailures: string[] = [];
  /** Outcome of each request by the second it was sent in, for the timeline. */
  readonly perSecond = new Map<number, { ok: number; failed: number }>();
  retried = 0;

  add(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  get total(): number {
    return [...this.outcomes.values()].reduce((a, b) => a + b, 0);
  }

  get successRate(): number {
    return (this.outcomes.get('OK') ?? 0) / Math.max(1, this.total);
  }
}

/**
 * Closed-loop Predict traffic through the scheduler: y = x + 1 is checked on every answer. Each
 * request has a deadline and is retried on UNAVAILABLE (backing off 50 ms to 500 ms) until it
 * runs out, as a client with a gRPC retry policy would.
 */
export class SteadyLoad {
  readonly record = new LoadRecord();
  private readonly client: grpc.Client;
  private stopping = false;
  private running?: Promise<void>;
  private next = 0;

  constructor(
    address: string,
    private readonly options: LoadOptions,
  ) {
    // Reconnect quickly after the scheduler comes back (grpc-js would wait up to 120 s by default).
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 500 });
  }

  start(): void {
    this.running = Promise.all(Array.from({ length: this.options.clients }, () => this.loop())).then(() => {});
  }

  async stop(): Promise<LoadRecord> {
    this.stopping = true;
    await this.running;
    this.client.close();
    return this.record;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) await this.request(++this.next);
  }

  private async request(x: number): Promise<void> {
    const sent = Date.now();
    const deadline = sent + this.options.deadlineMs;
    const bytes = Buffer.from(
      PredictRequest.encode(PredictRequest.fromPartial({ modelSpec: { name: MODEL }, inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 1n }, { size: 1n }] }, floatVal: [x] } } })).finish(),
    );
    let outcome = 'DEADLINE_EXCEEDED';
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const result = await this.attempt(bytes, deadline);
      if ('bytes' in result) {
        const y = PredictResponse.decode(result.bytes).outputs.y;
        const value = y?.tensorContent.length ? new Float32Array(new Uint8Array(y.tensorContent).buffer)[0] : y?.floatVal[0];
        outcome = value === x + 1 ? 'OK' : 'WRONG_ANSWER';
        break;
      }
      const code = result.error.code;
      this.record.add(this.record.attemptErrors, grpc.status[code] ?? String(code));
      if (this.record.firstFailures.length < 10) this.record.firstFailures.push(`${new Date().toISOString()} ${grpc.status[code] ?? code}: ${result.error.details}`);
      outcome = grpc.status[code] ?? String(code);
      if (!RETRYABLE.has(code)) break;
      this.record.retried++;
      await new Promise((r) => setTimeout(r, Math.min(500, 50 * 2 ** attempt)));
    }
    this.record.add(this.record.outcomes, outcome);
    const second = Math.floor(sent / 1000);
    const slot = this.record.perSecond.get(second) ?? { ok: 0, failed: 0 };
    if (outcome === 'OK') slot.ok++;
    else slot.failed++;
    this.record.perSecond.set(second, slot);
  }

  private attempt(bytes: Buffer, deadline: number): Promise<{ bytes: Buffer } | { error: grpc.ServiceError }> {
    return new Promise((resolve) =>
      this.client.makeUnaryRequest(PREDICT, identity, identity, bytes, new grpc.Metadata(), { deadline }, (error, response) => resolve(error ? { error } : { bytes: response! })),
    );
  }
}
