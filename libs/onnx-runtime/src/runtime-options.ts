import { readFileSync } from 'node:fs';
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
 * Cores this process may keep busy: its CPU affinity (availableParallelism) capped by a cgroup v2
 * CPU quota, which containers set and Node 20's libuv does not look at. Sizing threads to the
 * affinity alone would oversubscribe a container limited to fewer cores.
 */
export function usableCores(cpuMaxFile = '/sys/fs/cgroup/cpu.max'): number {
  const cores = availableParallelism();
  let text: string;
  try {
    text = readFileSync(cpuMaxFile, 'utf8');
  } catch {
    return cores; // no cgroup v2 CPU controller here
  }
  const [quota, period] = text.trim().split(/\s+/).map(Number);
  if (!quota || !period || !Number.isFinite(quota) || !Number.isFinite(period)) return cores; // "max": no quota
  return Math.max(1, Math.min(cores, Math.ceil(quota / period)));
}

/**
 * Below 8 cores runs are single-threaded. onnxruntime's intra-op threads spin while they wait for
 * each other, and on a shared or loaded host a descheduled thread stalls the whole run. Measured
 * on the 2-core bench host under load (classifier, in process, items/s at batch 1 / 16 / 64):
 * 2 threads 179-307 / 266-297 / 302, 1 thread 742-755 / 721-851 / 544 (docs/performance.md,
 * "Thread defaults"). Each session runs on a thread of its own (SessionThread), so the second core
 * receives and answers requests while the first computes. From 8 cores two instances split the
 * cores, so one request still gets many threads.
 */
export function defaultRuntimeOptions(cores = usableCores()): RuntimeOptions {
  const instances = cores >= 8 ? 2 : 1;
  return {
    intraOpThreads: cores >= 8 ? Math.floor(cores / instances) : 1,
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
