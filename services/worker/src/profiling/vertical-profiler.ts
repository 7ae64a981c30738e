import { validateBatchingOptions } from '@maas/batching';
import type { ProfileTrial, VersionProfile } from '@maas/cluster-state';
import { MODEL_RUNTIME_FILE, sharedModelStore } from '@maas/model-store';
import { OnnxModel, usableProviders, type RuntimeOptions } from '@maas/onnx-runtime';
import type { BatchingConfig } from '../version-runner.js';
import { profileCandidates, type ProfileCandidate } from './profile-candidates.js';
import { batchFeeds, fixedBatchSize } from './profile-feeds.js';

export interface ProfilerOptions {
  /** Wall time one version's profile may take, session creation included. */
  budgetMs: number;
  /** p95 latency one run (one batch) must meet. */
  objectiveMs: number;
  /** Batch sizes tried when the worker batches requests (without batching, requests run as they come). */
  batchSizes: number[];
  cores: number;
  log: (message: string) => void;
  /** Usable execution providers (default: probed once per process). */
  providers?: () => Promise<string[]>;
}

/** What a version is loaded with, and how it was chosen. */
export interface TuneRequest {
  file: string;
  label: string;
  basePath: string;
  runtime: RuntimeOptions;
  batching?: BatchingConfig;
}

export interface Tuned {
  runtime: RuntimeOptions;
  batching?: BatchingConfig;
}

/** Hook the worker's model loading calls before building a version's sessions. */
export type VersionTuner = (request: TuneRequest) => Promise<Tuned>;

/** Runs of one trial: at least this many per session instance, however short the slice. */
const MIN_RUNS_PER_INSTANCE = 3;

export function runtimeFor(base: RuntimeOptions, candidate: ProfileCandidate): RuntimeOptions {
  return {
    ...base,
    intraOpThreads: candidate.intraOpThreads,
    instances: candidate.instances,
    executionProviders: candidate.provider === 'cpu' ? ['cpu'] : [candidate.provider, 'cpu'],
  };
}

/** Batching that executes batches of at most `size` rows; larger requests are split, so none is refused that was accepted before. */
export function batchingFor(batching: BatchingConfig, size: number): BatchingConfig {
  const current = batching.options;
  if (size >= current.maxExecutionBatchSize) return batching;
  const options = {
    ...current,
    enableLargeBatchSplitting: true,
    maxExecutionBatchSize: size,
    allowedBatchSizes: current.allowedBatchSizes.filter((s) => s <= size),
  };
  try {
    validateBatchingOptions(options);
    return { ...batching, options };
  } catch {
    return batching; // a combination the batcher would refuse: keep what the operator configured
  }
}

function percentile95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)] ?? 0;
}

/**
 * Vertical scaling of each replica: when a version loads, times it on this worker over candidate
 * batch sizes, intra-op thread counts, session instances and the execution providers usable here,
 * within a time budget, and loads it with the configuration of best throughput whose p95 run
 * latency meets the objective (the lowest p95 when none does). A model whose directory has a
 * runtime.json is configured by it and not profiled (the override). Profiles are kept per version
 * for the worker's status report.
 */
export class VerticalProfiler {
  private readonly profiles = new Map<string, VersionProfile>();

  constructor(private readonly options: ProfilerOptions) {}

  profileOf(label: string): VersionProfile | undefined {
    return this.profiles.get(label);
  }

  readonly tune: VersionTuner = async (request) => {
    if (await hasOverride(request.basePath)) {
      this.profiles.set(request.label, this.overrideProfile(request));
      return { runtime: request.runtime, batching: request.batching };
    }
    const profile = await this.profile(request).catch((error: Error) => {
      this.options.log(`profiling ${request.label} failed (loading with defaults): ${error.message}`);
      return undefined;
    });
    if (!profile) return { runtime: request.runtime, batching: request.batching };
    this.profiles.set(request.label, profile);
    const { chosen } = profile;
    this.options.log(
      `profiled ${request.label} in ${Math.round(profile.durationMs)} ms over ${profile.trials.length} configurations (${profile.skipped} skipped): ` +
        `batch ${chosen.batchSize}, ${chosen.intraOpThreads} thread(s) x ${chosen.instances} instance(s) on ${chosen.provider}, ` +
        `${profile.throughput?.toFixed(0)} rows/s, p95 ${profile.p95Ms?.toFixed(2)} ms (objective ${profile.objectiveMs} ms${profile.metObjective ? '' : ', not met'})`,
    );
    return {
      runtime: runtimeFor(request.runtime, chosen),
      batching: request.batching && batchingFor(request.batching, chosen.batchSize),
    };
  };

  private overrideProfile(request: TuneRequest): VersionProfile {
    return {
      source: 'override',
      chosen: {
        batchSize: request.batching?.options.maxExecutionBatchSize ?? 1,
        intraOpThreads: request.runtime.intraOpThreads,
        instances: request.runtime.instances,
        provider: request.runtime.executionProviders[0] ?? 'cpu',
      },
      objectiveMs: this.options.objectiveMs,
      metObjective: true,
      trials: [],
      skipped: 0,
      durationMs: 0,
    };
  }

  async profile(request: TuneRequest): Promise<VersionProfile | undefined> {
    const started = performance.now();
    const probe = await OnnxModel.load(request.file, `${request.label} (profile)`, { ...request.runtime, instances: 1, executionProviders: ['cpu'] });
    const signature = probe.signature;
    await probe.release();
    const fixed = fixedBatchSize(signature);
    const maxBatch = request.batching?.options.maxExecutionBatchSize ?? 1;
    const allowed = request.batching?.options.allowedBatchSizes ?? [];
    const batchSizes =
      fixed !== undefined ? [fixed] : !request.batching ? [1] : (allowed.length > 0 ? allowed : this.options.batchSizes).filter((b) => b <= maxBatch);
    const providers = await (this.options.providers ?? usableProviders)();
    const current: ProfileCandidate = {
      batchSize: fixed ?? Math.min(maxBatch, Math.max(...batchSizes, 1)),
      intraOpThreads: request.runtime.intraOpThreads,
      instances: request.runtime.instances,
      provider: request.runtime.executionProviders.find((p) => providers.includes(p)) ?? 'cpu',
    };
    const candidates = profileCandidates({ cores: this.options.cores, providers, batchSizes: batchSizes.length > 0 ? batchSizes : [1], current });
    // Each trial gets an equal share of most of the budget; session creation takes the rest.
    const sliceMs = Math.max(20, (this.options.budgetMs * 0.6) / candidates.length);
    const trials: ProfileTrial[] = [];
    let tried = 0;
    for (const candidate of candidates) {
      if (tried > 0 && performance.now() - started + sliceMs > this.options.budgetMs) break;
      tried++;
      const trial = await this.measure(request, candidate, signature, sliceMs).catch((error: Error) => {
        this.options.log(`profiling ${request.label}: ${describeCandidate(candidate)} failed: ${error.message}`);
        return undefined;
      });
      if (trial) trials.push(trial);
    }
    if (trials.length === 0) return undefined;
    const objectiveMs = this.options.objectiveMs;
    const feasible = trials.filter((t) => t.p95Ms <= objectiveMs);
    const cost = (t: ProfileTrial) => t.intraOpThreads * t.instances;
    const best = feasible.length > 0
      ? feasible.reduce((a, b) => (b.throughput > a.throughput * 1.05 || (b.throughput >= a.throughput * 0.95 && cost(b) < cost(a)) ? b : a))
      : trials.reduce((a, b) => (b.p95Ms < a.p95Ms ? b : a));
    return {
      source: 'profiled',
      chosen: { batchSize: best.batchSize, intraOpThreads: best.intraOpThreads, instances: best.instances, provider: best.provider },
      throughput: best.throughput,
      p95Ms: best.p95Ms,
      objectiveMs,
      metObjective: feasible.length > 0,
      trials,
      skipped: candidates.length - tried,
      durationMs: performance.now() - started,
    };
  }

  /** Loads the candidate's sessions and keeps every instance busy for the slice; rows/s and p95 run latency. */
  private async measure(request: TuneRequest, candidate: ProfileCandidate, signature: OnnxModel['signature'], sliceMs: number): Promise<ProfileTrial> {
    const model = await OnnxModel.load(request.file, `${request.label} (profile)`, runtimeFor(request.runtime, candidate));
    try {
      const feeds = batchFeeds(signature, candidate.batchSize);
      const outputs = signature.outputs.map((o) => o.name);
      await Promise.all(Array.from({ length: candidate.instances }, () => model.run(feeds, outputs))); // first runs allocate
      const latencies: number[] = [];
      const start = performance.now();
      await Promise.all(
        Array.from({ length: candidate.instances }, async () => {
          for (let runs = 0; runs < MIN_RUNS_PER_INSTANCE || performance.now() - start < sliceMs; runs++) {
            const t0 = performance.now();
            await model.run(feeds, outputs);
            latencies.push(performance.now() - t0);
          }
        }),
      );
      const elapsed = performance.now() - start;
      return { ...candidate, throughput: (latencies.length * candidate.batchSize * 1000) / elapsed, p95Ms: percentile95(latencies), runs: latencies.length };
    } finally {
      await model.release();
    }
  }
}

function describeCandidate(c: ProfileCandidate): string {
  return `batch ${c.batchSize}, ${c.intraOpThreads} thread(s) x ${c.instances} on ${c.provider}`;
}

async function hasOverride(basePath: string): Promise<boolean> {
  return sharedModelStore().readText(basePath, MODEL_RUNTIME_FILE).then(
    (text) => text !== undefined,
    () => false,
  );
}
