import { ModelVersionStatus_State as State } from '@maas/protos';
import { ModelMeter, type ModelReport, type WorkerReport } from '@maas/cluster-state';
import type { SimModel } from './catalog.js';

/** A request in flight through the simulated cluster. */
export interface SimRequest {
  model: SimModel;
  arrivedAt: number;
  deadline: number;
  /** When it reached its current worker (the worker-side latency starts here). */
  dispatchedAt: number;
  /** Set once it waited for a replica of a model at zero. */
  coldStart: boolean;
  /** Set once it was lost with a failed worker and retried. */
  lost?: boolean;
  /** How long this run takes on the worker it was sent to. */
  runMs: number;
  /** Latency added by failed attempts (refused connections, stale replicas). */
  penaltyMs: number;
  workerId?: string;
}

/** Recent worker-side latencies kept per replica for its p95. */
const LATENCY_RING = 64;

/** One replica on a simulated worker, counting its load with a real worker's ModelMeter. */
export class SimReplica {
  state: 'loading' | 'ready' | 'leaving' = 'loading';
  lastUsedAt: number;
  private readonly meter: ModelMeter;

  constructor(
    readonly model: SimModel,
    now: number,
  ) {
    this.meter = new ModelMeter(now, LATENCY_RING);
    this.lastUsedAt = now;
  }

  get inFlight(): number {
    return this.meter.inFlight;
  }

  begin(now: number): void {
    this.meter.start(now);
    this.lastUsedAt = now;
  }

  finish(now: number, latencyMs: number): void {
    this.meter.finish(now, latencyMs);
  }

  /** A request that will not finish here (its worker died). */
  abandon(now: number): void {
    this.meter.abandon(now);
  }

  report(now: number, windowMs: number, onGpu: boolean): ModelReport {
    const state = this.state === 'loading' ? State.LOADING : this.state === 'ready' ? State.AVAILABLE : State.UNLOADING;
    return {
      name: this.model.name,
      lastUsedAt: this.lastUsedAt,
      versions: [{ version: 1, state, memoryBytes: this.model.memoryBytes, gpuMemoryBytes: onGpu ? this.model.memoryBytes : 0, provider: onGpu ? 'cuda' : 'cpu' }],
      load: this.meter.snapshot(now, windowMs),
    };
  }
}

/**
 * A simulated worker: `slots` requests run at once (cores), the rest queue in arrival order; a
 * request runs for its model's service time (divided by the speedup for a GPU model on a GPU
 * worker, which then holds it in GPU memory). It holds replicas as placement assigns them and
 * heartbeats a WorkerReport like a real worker.
 */
export class SimWorker {
  alive = true;
  busy = 0;
  readonly replicas = new Map<number, SimReplica>();
  private readonly queue: SimRequest[] = [];
  private queueHead = 0;
  readonly running = new Set<SimRequest>();
  report: WorkerReport;

  constructor(
    readonly id: string,
    readonly kind: 'cpu' | 'gpu',
    readonly slots: number,
    readonly memoryBytes: number,
    readonly gpuMemoryBytes: number,
    private readonly gpuSpeedup: number,
    readonly startedAt: number,
    readonly ttlMs: number,
  ) {
    this.report = this.buildReport(startedAt, 10_000);
  }

  /** Whether a model runs on this worker's GPU. */
  onGpu(model: SimModel): boolean {
    return this.kind === 'gpu' && model.prefersGpu;
  }

  speedupFor(model: SimModel): number {
    return this.onGpu(model) ? this.gpuSpeedup : 1;
  }

  buildReport(now: number, windowMs: number): WorkerReport {
    let inFlight = 0;
    const models: ModelReport[] = [];
    for (const replica of this.replicas.values()) {
      models.push(replica.report(now, windowMs, this.onGpu(replica.model)));
      inFlight += replica.inFlight;
    }
    this.report = {
      id: this.id,
      address: `${this.id}:8500`,
      capacity: { cores: this.slots, memoryBytes: this.memoryBytes, providers: this.kind === 'gpu' ? ['cuda', 'cpu'] : ['cpu'], gpuMemoryBytes: this.gpuMemoryBytes },
      models,
      inFlight,
      startedAt: this.startedAt,
      reportedAt: now,
      ttlMs: this.ttlMs,
      draining: false,
    };
    return this.report;
  }

  /** Takes a request; returns it if it starts running now (the caller schedules its end), else queues it. */
  accept(request: SimRequest, now: number): boolean {
    request.dispatchedAt = now;
    request.workerId = this.id;
    this.replicas.get(request.model.index)!.begin(now);
    if (this.busy < this.slots) {
      this.busy++;
      this.running.add(request);
      return true;
    }
    this.queue.push(request);
    return false;
  }

  /** Ends a running request; returns the queued one that starts in its slot, if any. */
  finish(request: SimRequest, now: number): SimRequest | undefined {
    this.running.delete(request);
    this.replicas.get(request.model.index)?.finish(now, now - request.dispatchedAt);
    this.busy--;
    if (this.queueHead < this.queue.length) {
      const next = this.queue[this.queueHead++]!;
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue.splice(0, this.queueHead);
        this.queueHead = 0;
      }
      this.busy++;
      this.running.add(next);
      return next;
    }
    return undefined;
  }

  /** The worker dies: everything it was doing is returned to be retried elsewhere. */
  fail(now: number): SimRequest[] {
    this.alive = false;
    const lost = [...this.running, ...this.queue.slice(this.queueHead)];
    for (const request of lost) this.replicas.get(request.model.index)?.abandon(now);
    this.running.clear();
    this.queue.length = 0;
    this.queueHead = 0;
    this.busy = 0;
    return lost;
  }

  usedMemory(): number {
    let bytes = 0;
    for (const replica of this.replicas.values()) bytes += replica.model.memoryBytes;
    return bytes;
  }

  usedGpuMemory(): number {
    let bytes = 0;
    for (const replica of this.replicas.values()) if (this.onGpu(replica.model)) bytes += replica.model.memoryBytes;
    return bytes;
  }
}
