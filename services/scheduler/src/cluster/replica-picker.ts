import { availableVersions, type WorkerReport } from '@maas/cluster-state';
import type { VersionChoice } from '@maas/serving-api';

/** A worker that can answer a request, with the version it would use. */
export interface Candidate {
  worker: WorkerReport;
  version: number;
}

/** Workers holding an AVAILABLE version that satisfies the choice (labels resolved by the caller). */
export function candidatesFor(workers: readonly WorkerReport[], model: string, choice: Exclude<VersionChoice, { kind: 'label' }>): Candidate[] {
  const found: Candidate[] = [];
  for (const worker of workers) {
    const versions = availableVersions(worker, model);
    if (versions.length === 0) continue;
    if (choice.kind === 'specific') {
      if (versions.includes(choice.version)) found.push({ worker, version: choice.version });
    } else {
      found.push({ worker, version: Math.max(...versions) });
    }
  }
  if (choice.kind === 'latest' && found.length > 0) {
    // "Latest" means the newest version available anywhere: during a rollout, prefer replicas that have it.
    const newest = Math.max(...found.map((c) => c.version));
    return found.filter((c) => c.version === newest);
  }
  return found;
}

/**
 * Power of two choices: sample two candidates, keep the one with fewer outstanding requests per
 * core (this scheduler's own count plus the worker's last reported load). Near the quality of
 * least-loaded with none of its herd behaviour across several schedulers.
 */
export function pickReplica(candidates: readonly Candidate[], outstanding: ReadonlyMap<string, number>, random = Math.random): Candidate | undefined {
  if (candidates.length <= 1) return candidates[0];
  const i = Math.floor(random() * candidates.length);
  let j = Math.floor(random() * (candidates.length - 1));
  if (j >= i) j++; // two distinct candidates, uniformly
  const a = candidates[i]!;
  const b = candidates[j]!;
  const score = (c: Candidate) => ((outstanding.get(c.worker.id) ?? 0) + c.worker.inFlight) / Math.max(1, c.worker.capacity.cores);
  return score(b) < score(a) ? b : a;
}
