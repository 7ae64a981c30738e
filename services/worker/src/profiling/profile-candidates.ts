import type { ProfileTrial } from '@maas/cluster-state';

/** One configuration to try: batch size, threads per run, session instances, execution provider. */
export type ProfileCandidate = Omit<ProfileTrial, 'throughput' | 'p95Ms' | 'runs'>;

export interface CandidateSpace {
  cores: number;
  /** Usable execution providers here (cpu always; a GPU one only where it works). */
  providers: readonly string[];
  batchSizes: readonly number[];
  /** Tried first, so the configuration the worker would use anyway is always measured. */
  current: ProfileCandidate;
}

const same = (a: ProfileCandidate, b: ProfileCandidate) =>
  a.batchSize === b.batchSize && a.intraOpThreads === b.intraOpThreads && a.instances === b.instances && a.provider === b.provider;

/**
 * The configurations worth timing on this host: on cpu, 1, half and all cores per run with one
 * session, and single-threaded runs on two sessions (threads × instances never above the cores);
 * on a GPU provider one thread with one or two sessions; each at every batch size.
 */
export function profileCandidates(space: CandidateSpace): ProfileCandidate[] {
  const cores = Math.max(1, space.cores);
  const shapes: Array<[threads: number, instances: number]> = [];
  for (const threads of new Set([1, Math.max(1, Math.floor(cores / 2)), cores])) shapes.push([threads, 1]);
  if (cores >= 2) shapes.push([1, 2]);
  if (cores >= 4) shapes.push([Math.floor(cores / 2), 2]);
  const candidates: ProfileCandidate[] = [space.current];
  for (const provider of space.providers) {
    const providerShapes: Array<[number, number]> = provider === 'cpu' ? shapes : [[1, 1], [1, 2]];
    for (const [intraOpThreads, instances] of providerShapes) {
      for (const batchSize of space.batchSizes) {
        const candidate = { batchSize, intraOpThreads, instances, provider };
        if (!candidates.some((c) => same(c, candidate))) candidates.push(candidate);
      }
    }
  }
  return candidates;
}
