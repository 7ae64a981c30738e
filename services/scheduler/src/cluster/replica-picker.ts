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
 * Workers by the models they report, rebuilt only when the view's worker list is replaced (each
 * refresh): a routing decision looks at the few holders of its model, not at every worker.
 */
export class ReplicaIndex {
  private source?: readonly WorkerReport[];
  private readonly byModel = new Map<string, WorkerReport[]>();

  holders(workers: readonly WorkerReport[], model: string): readonly WorkerReport[] {
    if (workers !== this.source) {
      this.byModel.clear();
      for (const worker of workers) {
        for (const m of worker.models) {
          const list = this.byModel.get(m.name);
          if (list) list.push(worker);
          else this.byModel.set(m.name, [worker]);
        }
      }
      this.source = workers;
    }
    return this.byModel.get(model) ?? [];
  }
}

/**
 * Power of two choices: sample two candidates, keep the one with fewer outstanding requests per
 * core (this scheduler's own count plus the worker's last reported load). Near the quality of
 * least-loaded with none of its herd behaviour across several schedulers.
 */
export function pickReplica(
  candidates: readonly Candidate[],
  outstanding: ReadonlyMap<string, number>,
  random = Math.random,
  /** Told which two were sampled (the routing span records them). */
  weighed?: (sampled: readonly [Candidate, Candidate]) => void,
): Candidate | undefined {
  if (candidates.length <= 1) return candidates[0];
  const i = Math.floor(random() * candidates.length);
  let j = Math.floor(random() * (candidates.length - 1));
  if (j >= i) j++; // two distinct candidates, uniformly
  const a = candidates[i]!;
  const b = candidates[j]!;
  weighed?.([a, b]);
  return replicaLoad(b, outstanding) < replicaLoad(a, outstanding) ? b : a;
}

/** Outstanding requests per core: this scheduler's own count plus the worker's last reported load. */
export function replicaLoad(candidate: Candidate, outstanding: ReadonlyMap<string, number>): number {
  return ((outstanding.get(candidate.worker.id) ?? 0) + candidate.worker.inFlight) / Math.max(1, candidate.worker.capacity.cores);
}
