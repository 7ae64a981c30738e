import type { Assignments, WorkerReport } from '@maas/cluster-state';
import { placeModels, type PlacementModel, type PlacementWorker } from '../services/scheduler/src/cluster/placement.js';
import { candidatesFor, OutstandingRequests, pickReplica, ReplicaIndex, type Candidate } from '../services/scheduler/src/cluster/replica-picker.js';
import { ClusterScaler, replicaCounts } from '../services/scheduler/src/scaling/index.js';
import { buildCatalog, type SimModel } from './catalog.js';
import type { SimConfig } from './config.js';
import { EventQueue } from './event-queue.js';
import { cpuMicrosSince, Measurements, type Sample } from './metrics.js';
import { Random } from './random.js';
import { SimReplica, SimWorker, type SimRequest } from './sim-worker.js';
import { Traffic } from './traffic.js';

type SimEvent =
  | { kind: 'arrival'; model: number }
  | { kind: 'finish'; worker: SimWorker; request: SimRequest }
  | { kind: 'retry'; request: SimRequest }
  | { kind: 'loaded'; worker: SimWorker; replica: SimReplica }
  | { kind: 'unload'; worker: SimWorker; replica: SimReplica }
  | { kind: 'heartbeat' }
  | { kind: 'placement' }
  | { kind: 'fail' }
  | { kind: 'recover'; workerKind: 'cpu' | 'gpu' }
  | { kind: 'sample' }
  | { kind: 'warm' };

const GIB = 1024 ** 3;
/** Placement's share of a worker's memory for models (as in placement-loop.ts). */
const MODEL_MEMORY_SHARE = 0.7;
/** Latency a failed attempt adds: a refused connection, or a worker answering NOT_FOUND after an unload. */
const FAILED_ATTEMPT_MS = 5;
/** The router tries at most this many replicas per request (as the scheduler's Router). */
const MAX_ATTEMPTS = 3;
/** A request lost with its worker is retried this much later (the call fails, the router tries elsewhere). */
const RETRY_AFTER_MS = 10;
const LATEST = { kind: 'latest' } as const;

export interface SimResult {
  config: SimConfig;
  wallMs: number;
  requests: { total: number; withinObjective: number; failed: number; retriedAfterFailure: number; p50Ms: number; p99Ms: number; worstWindowWithin: number };
  misses: { coldStart: number; afterFailure: number; slow: number; deadline: number; topModels: Array<{ model: string; rank: number; misses: number; serviceMs: number; objectiveMs: number }> };
  coldStarts: { replicaLoads: number; requestsWaited: number; waitedWithinObjective: number; waitP50Ms: number; waitP99Ms: number };
  memory: { meanUsedGiB: number; meanIdealGiB: number; usedOverIdeal: number; usedOverStrictIdeal: number; peakUsedOverFleetBudget: number; meanReplicas: number; meanIdealReplicas: number };
  /** Where replicas ran (shares of the mean replica counts over samples) and the fullest GPU's memory over its total. */
  devices: { gpuModelReplicasOnGpu: number; cpuModelReplicasOnCpu: number; fullestGpu: number };
  routing: { decisions: number; cpuMicrosPerDecision: number; cpuMicrosP99: number; measurementOverheadMicros: number };
  placement: {
    fromScratch: { models: number; workers: number; replicas: number; planCpuMs: number; placeCpuMs: number };
    rounds: number;
    cpuMsPerRound: { plan: number; place: number; status: number; max: number };
    replicaChanges: number;
    changesPerSimSecond: number;
    modelsDecidedPerCpuSecond: number;
  };
  scaling: { scaleUps: number; scaleDowns: number; downsWithinDelayOfUp: number; maxMissingWorkers: number; meanRemovableWorkers: number };
  failures: { workersFailed: number };
  samples: Sample[];
}

/**
 * A discrete-event simulation of a MaaS cluster at fleet scale. Workers, requests and time are
 * simulated; the decisions are made by the real modules the scheduler runs: ClusterScaler (the
 * horizontal autoscaler over the workers' load reports) and placeModels each placement round, and
 * ReplicaIndex + candidatesFor + pickReplica for every request. Their CPU time is measured with
 * process.cpuUsage() around the calls.
 */
export class Simulation {
  private readonly queue = new EventQueue<SimEvent>();
  private readonly models: SimModel[];
  private readonly byName = new Map<string, SimModel>();
  private readonly traffic: Traffic;
  private readonly opsRandom: Random;
  private readonly routeRandom: Random;
  private readonly runRandom: Random;
  private readonly workers = new Map<string, SimWorker>();
  private view: WorkerReport[] = [];
  private readonly suspects = new Map<string, number>();
  private readonly index = new ReplicaIndex();
  private readonly outstanding = new OutstandingRequests();
  private assignments: Assignments = {};
  private readonly demand = new Map<string, number>();
  private readonly scaler: ClusterScaler;
  private readonly waiting = new Map<number, SimRequest[]>();
  private nextWorker = 0;
  private now = 0;

  /** Counted from the end of the warm-up on. */
  private m = new Measurements();
  private readonly fromScratch = { models: 0, workers: 0, replicas: 0, planCpuMs: 0, placeCpuMs: 0 };
  private readonly lastWanted = new Map<string, { count: number; direction: number; at: number }>();
  private readonly servedMs: Float64Array;
  private readonly lastRequestAt: Float64Array;

  constructor(
    private readonly config: SimConfig,
    private readonly progress?: (line: string) => void,
  ) {
    this.models = buildCatalog(config);
    for (const m of this.models) this.byName.set(m.name, m);
    this.traffic = new Traffic(config, this.models, new Random(config.seed));
    this.opsRandom = new Random(config.seed * 31 + 3);
    this.routeRandom = new Random(config.seed * 17 + 5);
    this.runRandom = new Random(config.seed * 13 + 9);
    this.scaler = new ClusterScaler(config.scaling);
    this.servedMs = new Float64Array(this.models.length);
    this.lastRequestAt = new Float64Array(this.models.length); // every model is loaded, as if used, at t = 0
  }

  run(): SimResult {
    const started = performance.now();
    for (let i = 0; i < this.config.workers.cpu; i++) this.addWorker('cpu');
    for (let i = 0; i < this.config.workers.gpu; i++) this.addWorker('gpu');
    this.heartbeat();
    this.placeFromScratch();
    const c = this.config.control;
    this.queue.push(c.heartbeatMs, { kind: 'heartbeat' });
    this.queue.push(c.placementMs, { kind: 'placement' });
    const warmup = this.config.warmupS * 1000;
    this.queue.push(warmup, { kind: 'warm' });
    this.queue.push(warmup + this.config.sampleEveryS * 1000, { kind: 'sample' });
    if (this.config.failures.perHour > 0) this.queue.push(this.opsRandom.exponential(3_600_000 / this.config.failures.perHour), { kind: 'fail' });
    const first = this.traffic.next(0);
    this.queue.push(first.at, { kind: 'arrival', model: first.model });

    const end = warmup + this.config.durationS * 1000;
    let reportAt = end / 10;
    while (this.queue.peekTime() <= end) {
      this.now = this.queue.peekTime();
      this.handle(this.queue.pop()!);
      if (this.now >= reportAt && this.progress) {
        this.progress(`${Math.round((100 * this.now) / end)} % (${Math.round(this.now / 1000)} s simulated, ${this.m.requests} requests measured, ${Math.round(performance.now() - started) / 1000} s)`);
        reportAt += end / 10;
      }
    }
    for (const list of this.waiting.values()) for (const request of list) this.fail(request);
    return this.result(performance.now() - started);
  }

  private handle(event: SimEvent): void {
    switch (event.kind) {
      case 'arrival': {
        this.traffic.advanceBursts(this.now);
        const next = this.traffic.next(this.now);
        this.queue.push(next.at, { kind: 'arrival', model: next.model });
        const model = this.models[event.model]!;
        const request: SimRequest = { model, arrivedAt: this.now, deadline: this.now + this.config.traffic.deadlineMs, dispatchedAt: 0, coldStart: false, runMs: 0, penaltyMs: 0 };
        if (!this.route(request)) this.wait(request);
        return;
      }
      case 'finish':
        return this.finish(event.worker, event.request);
      case 'retry':
        if (this.now >= event.request.deadline) return this.fail(event.request);
        if (!this.route(event.request)) this.wait(event.request);
        return;
      case 'loaded':
        if (event.worker.replicas.get(event.replica.model.index) === event.replica && event.replica.state === 'loading') event.replica.state = 'ready';
        return;
      case 'unload':
        if (event.replica.state !== 'leaving' || event.worker.replicas.get(event.replica.model.index) !== event.replica) return;
        if (event.replica.inFlight > 0) this.queue.push(this.now + 100, event);
        else event.worker.replicas.delete(event.replica.model.index);
        return;
      case 'heartbeat':
        this.heartbeat();
        this.queue.push(this.now + this.config.control.heartbeatMs, event);
        return;
      case 'placement':
        this.placementRound();
        this.queue.push(this.now + this.config.control.placementMs, event);
        return;
      case 'fail':
        this.failWorker();
        this.queue.push(this.now + this.opsRandom.exponential(3_600_000 / this.config.failures.perHour), event);
        return;
      case 'recover':
        this.addWorker(event.workerKind);
        return;
      case 'warm':
        this.m = new Measurements();
        this.servedMs.fill(0);
        return;
      case 'sample':
        this.sample();
        this.queue.push(this.now + this.config.sampleEveryS * 1000, event);
        return;
    }
  }

  private addWorker(kind: 'cpu' | 'gpu'): SimWorker {
    const spec = kind === 'gpu' ? this.config.gpuWorker : this.config.cpuWorker;
    const id = `${kind}-${String(this.nextWorker++).padStart(4, '0')}`;
    const gpuMemoryBytes = kind === 'gpu' ? this.config.gpuWorker.gpuMemoryGiB * GIB : 0;
    const worker = new SimWorker(id, kind, spec.slots, spec.memoryGiB * GIB, gpuMemoryBytes, this.config.gpuSpeedup, this.now, this.config.control.reportTtlMs);
    this.workers.set(id, worker);
    return worker;
  }

  // ---- the view: reports, expiry, routing

  /** Every live worker reports; the scheduler's view is rebuilt; requests waiting for a replica try again. */
  private heartbeat(): void {
    const view: WorkerReport[] = [];
    for (const [id, worker] of this.workers) {
      if (worker.alive) view.push(worker.buildReport(this.now, 10_000));
      else if (worker.report.reportedAt + worker.ttlMs > this.now) view.push(worker.report); // dead, not expired yet
      else {
        this.workers.delete(id);
        delete this.assignments[id];
        this.suspects.delete(id);
      }
    }
    this.view = view;
    for (const [model, list] of this.waiting) {
      const still: SimRequest[] = [];
      for (const request of list) {
        if (this.now >= request.deadline) this.fail(request);
        else if (!this.route(request)) still.push(request);
      }
      if (still.length > 0) this.waiting.set(model, still);
      else this.waiting.delete(model);
    }
  }

  private routable(report: WorkerReport): boolean {
    if (report.draining) return false;
    const since = this.suspects.get(report.id);
    return since === undefined || report.reportedAt > since;
  }

  /** The scheduler's routing decision (real code, CPU measured), then the simulated call. */
  private route(request: SimRequest): boolean {
    const name = request.model.name;
    const start = process.cpuUsage();
    const holders = this.index.holders(this.view, name).filter((w) => this.routable(w));
    let candidates: Candidate[] = candidatesFor(holders, name, LATEST);
    let picked = pickReplica(candidates, this.outstanding, () => this.routeRandom.next());
    this.countRouteCpu(cpuMicrosSince(start));
    for (let attempt = 0; picked && attempt < MAX_ATTEMPTS; attempt++) {
      const worker = this.workers.get(picked.worker.id);
      const replica = worker?.replicas.get(request.model.index);
      if (worker?.alive && replica && replica.state !== 'loading') {
        this.dispatch(worker, request);
        return true;
      }
      if (!worker?.alive) this.suspects.set(picked.worker.id, this.now);
      request.penaltyMs += FAILED_ATTEMPT_MS;
      const retryStart = process.cpuUsage();
      const tried: Candidate = picked;
      candidates = candidates.filter((c) => c !== tried);
      picked = pickReplica(candidates, this.outstanding, () => this.routeRandom.next());
      this.countRouteCpu(cpuMicrosSince(retryStart));
    }
    return false;
  }

  private countRouteCpu(micros: number): void {
    this.m.routeCpuMicros += micros;
    this.m.routeDecisions++;
    this.m.routeCpu.add(micros);
  }

  /** No replica: a model that may sit at zero records demand (a cold start); either way the client retries until its deadline. */
  private wait(request: SimRequest): void {
    if (request.model.range.min === 0) {
      this.demand.set(request.model.name, this.now);
      request.coldStart = true;
    }
    const list = this.waiting.get(request.model.index);
    if (list) list.push(request);
    else this.waiting.set(request.model.index, [request]);
  }

  private dispatch(worker: SimWorker, request: SimRequest): void {
    request.runMs = (request.model.serviceMs / worker.speedupFor(request.model)) * Math.exp(this.config.serviceMs.jitterSigma * this.runRandom.normal());
    this.outstanding.add(worker.id, 1);
    if (worker.accept(request, this.now)) this.queue.push(this.now + request.runMs, { kind: 'finish', worker, request });
  }

  private finish(worker: SimWorker, request: SimRequest): void {
    if (!worker.alive || !worker.running.has(request)) return; // lost with its worker, already retried
    const next = worker.finish(request, this.now);
    this.outstanding.add(worker.id, -1);
    this.servedMs[request.model.index]! += this.now - request.dispatchedAt;
    this.lastRequestAt[request.model.index] = this.now;
    this.complete(request, this.now - request.arrivedAt + request.penaltyMs);
    if (next) this.queue.push(this.now + next.runMs, { kind: 'finish', worker, request: next });
  }

  private complete(request: SimRequest, latencyMs: number): void {
    const ok = latencyMs <= request.model.objectiveMs;
    this.m.requests++;
    this.m.sampleRequests++;
    this.m.latency.add(latencyMs);
    if (ok) {
      this.m.within++;
      this.m.sampleWithin++;
    } else {
      const misses = this.m.misses;
      if (request.coldStart) misses.coldStart++;
      else if (request.lost) misses.afterFailure++;
      else misses.slow++;
      this.m.missesByModel.set(request.model.index, (this.m.missesByModel.get(request.model.index) ?? 0) + 1);
    }
    if (request.coldStart) {
      this.m.coldRequests++;
      this.m.coldWait.add(latencyMs);
      if (ok) this.m.coldWithin++;
    }
  }

  private fail(request: SimRequest): void {
    this.m.failed++;
    this.m.misses.deadline++;
    this.m.requests++;
    this.m.sampleRequests++;
    if (request.coldStart) this.m.coldRequests++;
  }

  private failWorker(): void {
    const alive = [...this.workers.values()].filter((w) => w.alive);
    if (alive.length === 0) return;
    const victim = alive[this.opsRandom.int(alive.length)]!;
    this.m.workersFailed++;
    for (const request of victim.fail(this.now)) {
      this.outstanding.add(victim.id, -1);
      this.m.retried++;
      request.lost = true;
      this.queue.push(this.now + RETRY_AFTER_MS, { kind: 'retry', request });
    }
    this.queue.push(this.now + this.config.failures.downS * 1000, { kind: 'recover', workerKind: victim.kind });
  }

  // ---- placement

  private placementInputs(): { models: PlacementModel[]; workers: PlacementWorker[]; live: WorkerReport[]; current: Assignments } {
    const live = this.view.filter((w) => !w.draining);
    // As the placement loop does: GPU models by their runtime config, GPU memory as measured (here: as large as host memory).
    const models: PlacementModel[] = this.models.map((m) => ({ name: m.name, replicas: m.range, memoryBytes: m.memoryBytes, prefersGpu: m.prefersGpu, gpuMemoryBytes: m.prefersGpu ? m.memoryBytes : 0 }));
    const workers: PlacementWorker[] = live.map((w) => ({
      id: w.id,
      budgetBytes: w.capacity.memoryBytes * MODEL_MEMORY_SHARE,
      gpuBudgetBytes: w.capacity.gpuMemoryBytes > 0 ? w.capacity.gpuMemoryBytes * MODEL_MEMORY_SHARE : undefined,
      lastUsedAt: Object.fromEntries(w.models.map((m) => [m.name, m.lastUsedAt])),
    }));
    const current: Assignments = {};
    for (const w of live) current[w.id] = this.assignments[w.id] ?? [];
    return { models, workers, live, current };
  }

  /**
   * The first round on an empty fleet, its CPU reported: the autoscaler's look at 10,000 unplaced
   * models (on a scratch instance), then every model placed. The run starts with all of them
   * loaded, as a cluster whose models have all been used lately; the real autoscaler first sees
   * them placed.
   */
  private placeFromScratch(): void {
    const { models, workers, live, current } = this.placementInputs();
    const planStart = process.cpuUsage();
    new ClusterScaler(this.config.scaling).plan(models, live, current, this.demand, this.now);
    this.fromScratch.planCpuMs = cpuMicrosSince(planStart) / 1000;
    for (const model of models) model.wanted = Math.max(1, model.wanted ?? 1);
    const placeStart = process.cpuUsage();
    const { assignments } = placeModels(models, workers, current);
    this.fromScratch.placeCpuMs = cpuMicrosSince(placeStart) / 1000;
    this.fromScratch.models = models.length;
    this.fromScratch.workers = workers.length;
    this.fromScratch.replicas = Object.values(assignments).reduce((sum, names) => sum + names.length, 0);
    this.apply(assignments, true);
  }

  private placementRound(): void {
    const { models, workers, live, current } = this.placementInputs();
    const before = replicaCounts(current);
    const t0 = process.cpuUsage();
    const decisions = this.scaler.plan(models, live, current, this.demand, this.now);
    const plan = cpuMicrosSince(t0);
    const t1 = process.cpuUsage();
    const { assignments, unplaced } = placeModels(models, workers, current);
    const place = cpuMicrosSince(t1);
    const t2 = process.cpuUsage();
    const budgets = new Map(workers.map((w) => [w.id, w.budgetBytes]));
    const status = this.scaler.status(models, decisions, live.map((report) => ({ report, budgetBytes: budgets.get(report.id)! })), assignments, unplaced, this.now);
    const statusCpu = cpuMicrosSince(t2);
    this.m.rounds++;
    this.m.roundCpu.plan += plan;
    this.m.roundCpu.place += place;
    this.m.roundCpu.status += statusCpu;
    this.m.roundCpu.max = Math.max(this.m.roundCpu.max, plan + place + statusCpu);
    this.m.maxMissing = Math.max(this.m.maxMissing, status.missingWorkers.reduce((sum, m) => sum + m.count, 0));
    this.m.removableSum += status.removableWorkers.length;

    const after = replicaCounts(assignments);
    for (const model of models) {
      const was = before.get(model.name) ?? 0;
      const now = after.get(model.name) ?? 0;
      if (was === 0 && now > 0 && this.demand.has(model.name)) this.m.coldLoads++;
      this.trackDirection(model.name, model.wanted ?? 0);
    }
    this.apply(assignments, false);
  }

  /** Counts scale-ups and -downs, and scale-downs within the scale-down delay of a scale-up (flapping). */
  private trackDirection(name: string, wanted: number): void {
    const last = this.lastWanted.get(name);
    if (!last) {
      this.lastWanted.set(name, { count: wanted, direction: 0, at: this.now });
      return;
    }
    if (wanted === last.count) return;
    const direction = wanted > last.count ? 1 : -1;
    if (direction > 0) this.m.scaleUps++;
    else this.m.scaleDowns++;
    // Up, then down again within the scale-down delay, is flapping (a down then up is a reaction to new load).
    if (last.direction > 0 && direction < 0 && this.now - last.at < this.config.scaling.scaleDownDelayMs && wanted > 0) this.m.reversals++;
    this.lastWanted.set(name, { count: wanted, direction, at: this.now });
  }

  /** Workers follow their new assignments: added models load, removed ones unload after the grace period. */
  private apply(assignments: Assignments, loadedAlready: boolean): void {
    for (const [id, names] of Object.entries(assignments)) {
      const worker = this.workers.get(id);
      const previous = new Set(this.assignments[id] ?? []);
      this.assignments[id] = names;
      if (!worker?.alive) continue;
      const wanted = new Set(names);
      for (const name of names) {
        if (previous.has(name)) continue;
        const model = this.byName.get(name)!;
        const existing = worker.replicas.get(model.index);
        if (existing?.state === 'leaving') {
          existing.state = 'ready';
          continue;
        }
        if (existing) continue;
        const replica = new SimReplica(model, this.now);
        worker.replicas.set(model.index, replica);
        this.m.replicaChanges++;
        if (loadedAlready) replica.state = 'ready';
        else {
          // The worker sees its assignment at its next heartbeat, then loads.
          const loadMs = this.opsRandom.next() * this.config.control.heartbeatMs + (this.config.load.fixedS + model.memoryBytes / (this.config.load.mibPerS * 1024 * 1024)) * 1000;
          this.queue.push(this.now + loadMs, { kind: 'loaded', worker, replica });
        }
      }
      for (const name of previous) {
        if (wanted.has(name)) continue;
        const replica = worker.replicas.get(this.byName.get(name)!.index);
        if (!replica || replica.state === 'leaving') continue;
        this.m.replicaChanges++;
        if (replica.state === 'loading') {
          worker.replicas.delete(replica.model.index);
          continue;
        }
        replica.state = 'leaving';
        this.queue.push(this.now + this.config.control.unloadGraceMs, { kind: 'unload', worker, replica });
      }
    }
  }

  // ---- samples and the result

  /**
   * Memory held by replicas against an ideal packing: each model with exactly the replicas its
   * served load needs at the concurrency target over the last sample period (at least one if it
   * had a request within the idle period, or its min is 1; none otherwise), no delays, no tolerance.
   */
  private sample(): void {
    const periodMs = this.config.sampleEveryS * 1000;
    const target = this.config.scaling.targetInFlight;
    let idealReplicas = 0;
    let idealMemory = 0;
    let strictMemory = 0;
    for (const m of this.models) {
      const concurrency = this.servedMs[m.index]! / periodMs;
      const byLoad = Math.ceil(concurrency / target - 1e-9);
      const recent = this.now - this.lastRequestAt[m.index]! < this.config.scaling.idleMs;
      const need = Math.min(m.range.max, Math.max(m.range.min, recent ? 1 : 0, byLoad));
      idealReplicas += need;
      idealMemory += need * m.memoryBytes;
      // Stricter: a model at min 0 is held only while it served something in this very period.
      const inPeriod = this.now - this.lastRequestAt[m.index]! < periodMs;
      strictMemory += Math.min(m.range.max, Math.max(m.range.min, inPeriod ? 1 : 0, byLoad)) * m.memoryBytes;
      this.servedMs[m.index] = 0;
    }
    let replicas = 0;
    let memory = 0;
    const devices = { gpuModelReplicas: 0, gpuModelReplicasOnGpu: 0, cpuModelReplicas: 0, cpuModelReplicasOnCpu: 0, fullestGpu: 0 };
    for (const w of this.workers.values()) {
      if (!w.alive) continue;
      replicas += w.replicas.size;
      memory += w.usedMemory();
      for (const replica of w.replicas.values()) {
        if (replica.model.prefersGpu) {
          devices.gpuModelReplicas++;
          if (w.kind === 'gpu') devices.gpuModelReplicasOnGpu++;
        } else {
          devices.cpuModelReplicas++;
          if (w.kind === 'cpu') devices.cpuModelReplicasOnCpu++;
        }
      }
      if (w.gpuMemoryBytes > 0) devices.fullestGpu = Math.max(devices.fullestGpu, w.usedGpuMemory() / w.gpuMemoryBytes);
    }
    this.m.samples.push({
      atS: this.now / 1000,
      dayFactor: this.traffic.diurnal(this.now),
      replicas,
      idealReplicas,
      memoryBytes: memory,
      idealMemoryBytes: idealMemory,
      strictIdealMemoryBytes: strictMemory,
      requests: this.m.sampleRequests,
      withinObjective: this.m.sampleWithin,
      ...devices,
    });
    this.m.sampleRequests = 0;
    this.m.sampleWithin = 0;
  }

  private result(wallMs: number): SimResult {
    const mean = (f: (s: Sample) => number) => this.m.samples.reduce((sum, s) => sum + f(s), 0) / Math.max(1, this.m.samples.length);
    const fleetBudget = this.config.workers.cpu * this.config.cpuWorker.memoryGiB * GIB + this.config.workers.gpu * this.config.gpuWorker.memoryGiB * GIB;
    const worstWindow = this.m.samples.filter((s) => s.requests >= 100).reduce((worst, s) => Math.min(worst, s.withinObjective / s.requests), 1);
    const placeCpuMs = this.m.roundCpu.place / 1000;
    return {
      config: this.config,
      wallMs,
      requests: {
        total: this.m.requests,
        withinObjective: this.m.within / Math.max(1, this.m.requests),
        failed: this.m.failed,
        retriedAfterFailure: this.m.retried,
        p50Ms: this.m.latency.quantile(0.5),
        p99Ms: this.m.latency.quantile(0.99),
        worstWindowWithin: worstWindow,
      },
      misses: {
        ...this.m.misses,
        topModels: [...this.m.missesByModel]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([index, misses]) => {
            const model = this.models[index]!;
            return { model: model.name, rank: model.rank, misses, serviceMs: Math.round(model.serviceMs), objectiveMs: Math.round(model.objectiveMs) };
          }),
      },
      coldStarts: {
        replicaLoads: this.m.coldLoads,
        requestsWaited: this.m.coldRequests,
        waitedWithinObjective: this.m.coldWithin,
        waitP50Ms: this.m.coldWait.quantile(0.5),
        waitP99Ms: this.m.coldWait.quantile(0.99),
      },
      memory: {
        meanUsedGiB: mean((s) => s.memoryBytes) / GIB,
        meanIdealGiB: mean((s) => s.idealMemoryBytes) / GIB,
        usedOverIdeal: mean((s) => s.memoryBytes) / Math.max(1, mean((s) => s.idealMemoryBytes)),
        usedOverStrictIdeal: mean((s) => s.memoryBytes) / Math.max(1, mean((s) => s.strictIdealMemoryBytes)),
        peakUsedOverFleetBudget: Math.max(...this.m.samples.map((s) => s.memoryBytes)) / (fleetBudget * MODEL_MEMORY_SHARE),
        meanReplicas: mean((s) => s.replicas),
        meanIdealReplicas: mean((s) => s.idealReplicas),
      },
      devices: {
        gpuModelReplicasOnGpu: mean((s) => s.gpuModelReplicasOnGpu) / Math.max(1, mean((s) => s.gpuModelReplicas)),
        cpuModelReplicasOnCpu: mean((s) => s.cpuModelReplicasOnCpu) / Math.max(1, mean((s) => s.cpuModelReplicas)),
        fullestGpu: Math.max(0, ...this.m.samples.map((s) => s.fullestGpu)),
      },
      routing: {
        decisions: this.m.routeDecisions,
        cpuMicrosPerDecision: this.m.routeCpuMicros / Math.max(1, this.m.routeDecisions),
        cpuMicrosP99: this.m.routeCpu.quantile(0.99),
        measurementOverheadMicros: measurementOverhead(),
      },
      placement: {
        fromScratch: this.fromScratch,
        rounds: this.m.rounds,
        cpuMsPerRound: {
          plan: this.m.roundCpu.plan / 1000 / Math.max(1, this.m.rounds),
          place: placeCpuMs / Math.max(1, this.m.rounds),
          status: this.m.roundCpu.status / 1000 / Math.max(1, this.m.rounds),
          max: this.m.roundCpu.max / 1000,
        },
        replicaChanges: this.m.replicaChanges,
        changesPerSimSecond: this.m.replicaChanges / this.config.durationS,
        modelsDecidedPerCpuSecond: (this.m.rounds * this.models.length) / Math.max(1e-9, placeCpuMs / 1000),
      },
      scaling: {
        scaleUps: this.m.scaleUps,
        scaleDowns: this.m.scaleDowns,
        downsWithinDelayOfUp: this.m.reversals,
        maxMissingWorkers: this.m.maxMissing,
        meanRemovableWorkers: this.m.removableSum / Math.max(1, this.m.rounds),
      },
      failures: { workersFailed: this.m.workersFailed },
      samples: this.m.samples,
    };
  }
}

/** CPU one empty process.cpuUsage() pair costs (µs): part of every measured routing decision. */
function measurementOverhead(): number {
  const n = 20_000;
  let total = 0;
  for (let i = 0; i < n; i++) total += cpuMicrosSince(process.cpuUsage());
  return total / n;
}
