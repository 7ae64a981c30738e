import type { ScalingDefaults } from '../services/scheduler/src/scaling/index.js';

/** One simulated run: the fleet, the models, the traffic and the control loop's timing. */
export interface SimConfig {
  name: string;
  seed: number;
  /** Simulated seconds measured, after `warmupS` unmeasured ones (the autoscaler learns the load from a cold, evenly placed start). */
  durationS: number;
  warmupS: number;
  workers: { cpu: number; gpu: number };
  /** Per worker: request slots (cores), host memory, and on GPU workers GPU memory. */
  cpuWorker: { slots: number; memoryGiB: number };
  gpuWorker: { slots: number; memoryGiB: number; gpuMemoryGiB: number };
  /** GPU models (their runtime config prefers a GPU provider) run `gpuSpeedup` times faster on a GPU worker, in GPU memory as large as their host memory; the rest run alike everywhere. */
  gpuSpeedup: number;
  gpuModelShare: number;
  models: number;
  /** Replica memory: log-normal median (MiB) and sigma, clipped to [min, max] MiB. */
  modelMemoryMiB: { median: number; sigma: number; min: number; max: number };
  /** Service time of one request on a cpu worker: log-normal median (ms) and sigma; each run varies by `jitterSigma`. */
  serviceMs: { median: number; sigma: number; min: number; max: number; jitterSigma: number };
  /** A request meets its objective when answered within max(objectiveFloorMs, objectiveFactor × the model's cpu service time). */
  objectiveFactor: number;
  objectiveFloorMs: number;
  /** Models with popularity rank below this keep min 1 replica; the rest have min 0 (scale to zero). */
  warmModels: number;
  maxReplicas: { warm: number; cold: number };
  traffic: {
    /** Mean requests per second over a day. */
    meanRps: number;
    zipfExponent: number;
    /** The day's length (s) and swing: rate × (1 + amplitude × sin) between (1 − a) and (1 + a) of the mean. */
    dayS: number;
    diurnalAmplitude: number;
    /** Bursts: on average one every `everyS`, a model of popularity rank in [fromRank, toRank) gets `factor` × its rate for `durationS`. */
    bursts: { everyS: number; fromRank: number; toRank: number; factor: number; durationS: number };
    /** Clients give up (deadline) after this long, waiting included. */
    deadlineMs: number;
  };
  /** Worker failures: on average `perHour`; a failed worker comes back empty after `downS`. */
  failures: { perHour: number; downS: number };
  /** A replica takes `fixedS` + memory / `mibPerS` to load. */
  load: { fixedS: number; mibPerS: number };
  control: { heartbeatMs: number; placementMs: number; reportTtlMs: number; unloadGraceMs: number };
  scaling: ScalingDefaults;
  /** Sample memory and replicas every this many simulated seconds. */
  sampleEveryS: number;
}

const scaling: ScalingDefaults = { targetInFlight: 2, windowMs: 10_000, scaleUpDelayMs: 2_000, scaleDownDelayMs: 30_000, idleMs: 300_000, tolerance: 0.1 };

/** The fleet: 1,000 workers (70 % cpu, 30 % gpu), 10,000 models, one compressed day. */
export const FULL: SimConfig = {
  name: 'full',
  seed: 7,
  durationS: 3600,
  warmupS: 120,
  workers: { cpu: 700, gpu: 300 },
  cpuWorker: { slots: 8, memoryGiB: 32 },
  gpuWorker: { slots: 8, memoryGiB: 32, gpuMemoryGiB: 24 },
  gpuSpeedup: 4,
  gpuModelShare: 0.3,
  models: 10_000,
  modelMemoryMiB: { median: 300, sigma: 0.9, min: 20, max: 8192 },
  serviceMs: { median: 150, sigma: 0.7, min: 10, max: 2000, jitterSigma: 0.2 },
  objectiveFactor: 4,
  objectiveFloorMs: 100,
  warmModels: 2000,
  maxReplicas: { warm: 64, cold: 8 },
  traffic: {
    meanRps: 2000,
    zipfExponent: 1.1,
    dayS: 3600,
    diurnalAmplitude: 0.6,
    bursts: { everyS: 60, fromRank: 10, toRank: 1000, factor: 5, durationS: 120 },
    deadlineMs: 30_000,
  },
  failures: { perHour: 20, downS: 300 },
  load: { fixedS: 1, mibPerS: 500 },
  control: { heartbeatMs: 1000, placementMs: 5000, reportTtlMs: 3000, unloadGraceMs: 1000 },
  scaling,
  sampleEveryS: 10,
};

/** A few seconds of CPU: the CI configuration (test/scaling/sim.test.ts). */
export const SMALL: SimConfig = {
  ...FULL,
  name: 'small',
  seed: 11,
  durationS: 600,
  warmupS: 60,
  workers: { cpu: 14, gpu: 6 },
  // Small GPUs, so that GPU memory binds: GPU models fill them and the rest go to CPU workers.
  gpuWorker: { ...FULL.gpuWorker, gpuMemoryGiB: 4 },
  models: 300,
  warmModels: 60,
  traffic: { ...FULL.traffic, meanRps: 150, dayS: 600, bursts: { everyS: 60, fromRank: 3, toRank: 30, factor: 5, durationS: 60 } },
  failures: { perHour: 12, downS: 120 },
  control: { ...FULL.control, placementMs: 2000 },
  scaling: { ...scaling, idleMs: 60_000 },
};

export const PRESETS: Record<string, SimConfig> = { full: FULL, small: SMALL };
