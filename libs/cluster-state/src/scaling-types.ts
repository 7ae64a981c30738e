/**
 * What the autoscaler reads and writes: per-model load counters in worker reports, per-model
 * scaling settings in the catalogue, the vertical profile of each loaded version, and the
 * leader's scaling status (wanted vs placed replicas, missing and removable workers).
 */

/** One model's load on one worker. Counters only grow while the worker lives, so any two reports give a rate. */
export interface ModelLoad {
  /** Requests running now. */
  inFlight: number;
  /** Requests finished since the worker started. */
  requests: number;
  /** Integral of in-flight requests over time (ms) since the worker started: Δbusy/Δt is the mean concurrency. */
  busyMs: number;
  /** 95th percentile latency (ms) of the requests finished in the last `windowMs`; 0 when none. */
  p95Ms: number;
  /** How many requests that percentile is over. */
  recent: number;
  windowMs: number;
}

/** Per-model autoscaling settings kept with its replica range; unset ones take the scheduler's defaults. */
export interface ScalingSettings {
  /** Outstanding requests one replica should carry (the concurrency target). */
  targetInFlight?: number;
  /** p95 latency objective (ms, measured on the workers): above it the model scales up. */
  latencyObjectiveMs?: number;
  /** Look-back window of the load signals. */
  windowMs?: number;
  /** A higher replica count must be recommended this long before it is applied. */
  scaleUpDelayMs?: number;
  /** A lower replica count must be recommended this long before it is applied. */
  scaleDownDelayMs?: number;
  /** With min 0: no request for this long scales the model to zero. */
  idleMs?: number;
}

/** One configuration the vertical profiler tried on a worker. */
export interface ProfileTrial {
  batchSize: number;
  intraOpThreads: number;
  instances: number;
  provider: string;
  /** Rows per second over all instances. */
  throughput: number;
  p95Ms: number;
  runs: number;
}

/** The vertical profile of one loaded version on one worker: what was tried and what it runs with. */
export interface VersionProfile {
  /** 'profiled' when measured here; 'override' when the model's runtime settings were given by config. */
  source: 'profiled' | 'override';
  chosen: Omit<ProfileTrial, 'throughput' | 'p95Ms' | 'runs'>;
  /** The chosen trial's measurements (absent for an override). */
  throughput?: number;
  p95Ms?: number;
  objectiveMs: number;
  metObjective: boolean;
  trials: ProfileTrial[];
  /** Candidates left untried when the time budget ran out. */
  skipped: number;
  durationMs: number;
}

/** The leader's verdict for one model in the last placement round. */
export interface ModelScaling {
  wanted: number;
  placed: number;
  /** Replicas wanted but not placed: no worker had room. */
  unplaced: number;
  /** Why `wanted` is what it is, in words (for DescribeCluster and logs). */
  reason: string;
}

/** Workers of one kind the wanted replicas need beyond the fleet there is. */
export interface WorkerShortage {
  /** 'cpu' or 'gpu'. */
  kind: string;
  count: number;
  /** Replica memory that did not fit. */
  memoryBytes: number;
}

/** Written by the placement leader each round (`scaling` key), read by the registry's DescribeCluster. */
export interface ScalingStatus {
  at: number;
  models: Record<string, ModelScaling>;
  missingWorkers: WorkerShortage[];
  /** Idle workers with nothing placed on them: an external autoscaler may stop them (they drain on SIGTERM). */
  removableWorkers: string[];
}
