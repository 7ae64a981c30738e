import { availableParallelism } from 'node:os';
import type { InferenceSession } from 'onnxruntime-node';

/** How a model version's sessions are built; every field has a default sized for this host. */
export interface RuntimeOptions {
  /** Threads one run may use inside an operator. */
  intraOpThreads: number;
  /** Threads for running independent operators in parallel (only with parallel execution). */
  interOpThreads: number;
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
  /** Ordered preference, e.g. ['webgpu', 'cpu']. */
  executionProviders: string[];
  /** Sessions per model version; runs are spread over them so concurrent batches do not queue on one. */
  instances: number;
}

/**
 * One instance using every core is fastest for batched work on small hosts: two sessions on two
 * cores just contend. Larger hosts get two instances splitting the cores, so one batch's
 * preparation overlaps another's compute.
 */
export function defaultRuntimeOptions(cores = availableParallelism()): RuntimeOptions {
  const instances = cores >= 8 ? 2 : 1;
  return {
    intraOpThreads: Math.max(1, Math.floor(cores / instances)),
    interOpThreads: 1,
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
    instances,
  };
}

export function sessionOptionsFor(options: RuntimeOptions): InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: options.interOpThreads,
    graphOptimizationLevel: options.graphOptimizationLevel,
    executionProviders: options.executionProviders,
    executionMode: options.interOpThreads > 1 ? 'parallel' : 'sequential',
  };
}
