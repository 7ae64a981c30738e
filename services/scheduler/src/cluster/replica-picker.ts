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
 * This scheduler's outstanding requests per worker. A worker's report counts every request in
 * flight there, this scheduler's included, as of its last heartbeat (1 s apart by default). Added
 * to the live count as it was, it weighed our own requests twice, once up to a second old, and the
 * stale half swung the split between two workers (60/40 and worse under a steady closed loop,
 * docs/performance.md "Session 4"), leaving one short of work. So a report is taken net of what we
 * had outstanding on that worker when the report first reached us: what the other schedulers send.
 */
export class OutstandingRequests {
  private readonly counts = new Map<string, number>();
  private readonly ownAtReport = new Map<string, { reportedAt: number; own: number }>();

  get(workerId: string): number | undefined {
    return this.counts.get(workerId);
  }

  add(workerId: string, delta: number): void {
    this.counts.set(workerId, (this.counts.get(workerId) ?? 0) + delta);
  }

  /** Requests in flight on the worker that are not this scheduler's. */
  othersOn(worker: WorkerReport): number {
    let seen = this.ownAtReport.get(worker.id);
    if (seen?.reportedAt !== worker.reportedAt) {
      seen = { reportedAt: worker.reportedAt, own: this.counts.get(worker.id) ?? 0 };
      this.ownAtReport.set(worker.id, seen);
    }
    return Math.max(0, worker.inFlight - seen.own);
  }
}

/**
 * Power of two choices: sample two candidates, keep the one with fewer outstanding requests per
 * core (this scheduler's own count plus the other schedulers' load the worker last reported). Near
 * the quality of least-loaded with none of its herd behaviour across several schedulers.
 */
export function pickReplica(
  candidates: readonly Candidate[],
  outstanding: OutstandingRequests,
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

/** Outstanding requests per core: this scheduler's own count plus the other schedulers' load the worker last reported. */
export function replicaLoad(candidate: Candidate, outstanding: OutstandingRequests): number {
  return ((outstanding.get(candidate.worker.id) ?? 0) + outstanding.othersOn(candidate.worker)) / Math.max(1, candidate.worker.capacity.cores);
}
