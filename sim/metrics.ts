/** Counts in log-spaced buckets, for percentiles of values spanning orders of magnitude. */
export class Histogram {
  private readonly counts: Float64Array;
  total = 0;
  sum = 0;
  max = 0;

  /** Buckets of `ratio` growth from `min` (values below fall in the first). */
  constructor(
    private readonly min: number,
    private readonly ratio = 1.05,
    buckets = 600,
  ) {
    this.counts = new Float64Array(buckets);
  }

  add(value: number): void {
    const i = value <= this.min ? 0 : Math.min(this.counts.length - 1, Math.ceil(Math.log(value / this.min) / Math.log(this.ratio)));
    this.counts[i]!++;
    this.total++;
    this.sum += value;
    if (value > this.max) this.max = value;
  }

  /** Upper edge of the bucket holding the q-quantile. */
  quantile(q: number): number {
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= q * this.total) return this.min * this.ratio ** i;
    }
    return this.max;
  }

  mean(): number {
    return this.total > 0 ? this.sum / this.total : 0;
  }
}

/** CPU time (µs, user + system) of this process since `start` (process.cpuUsage). */
export function cpuMicrosSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

export interface Sample {
  atS: number;
  /** Requests per second offered (base × day, bursts excluded) at the sample. */
  dayFactor: number;
  replicas: number;
  idealReplicas: number;
  memoryBytes: number;
  idealMemoryBytes: number;
  /** The same with no idle period: a model at min 0 held only while it serves requests in the sample period. */
  strictIdealMemoryBytes: number;
  requests: number;
  withinObjective: number;
  /** Replicas of GPU models, and how many of them run on GPU workers; the same for the other models on CPU workers. */
  gpuModelReplicas: number;
  gpuModelReplicasOnGpu: number;
  cpuModelReplicas: number;
  cpuModelReplicasOnCpu: number;
  /** The fullest GPU's memory held by replicas (loading and leaving ones included) over its total memory. */
  fullestGpu: number;
}

/** Everything counted while measuring (after the warm-up); replaced whole when the warm-up ends. */
export class Measurements {
  readonly latency = new Histogram(0.5);
  readonly coldWait = new Histogram(0.5);
  readonly routeCpu = new Histogram(0.25, 1.1, 200);
  requests = 0;
  within = 0;
  failed = 0;
  retried = 0;
  coldRequests = 0;
  coldWithin = 0;
  coldLoads = 0;
  routeCpuMicros = 0;
  routeDecisions = 0;
  rounds = 0;
  readonly roundCpu = { plan: 0, place: 0, status: 0, max: 0 };
  replicaChanges = 0;
  scaleUps = 0;
  scaleDowns = 0;
  reversals = 0;
  maxMissing = 0;
  removableSum = 0;
  workersFailed = 0;
  readonly samples: Sample[] = [];
  /** Requests outside their objective, by why: waited for a cold start, lost with a failed worker, slow on the worker (queueing), or no answer by the deadline. */
  readonly misses = { coldStart: 0, afterFailure: 0, slow: 0, deadline: 0 };
  readonly missesByModel = new Map<number, number>();
  sampleRequests = 0;
  sampleWithin = 0;
}
