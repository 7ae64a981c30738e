import { ModelVersionStatus_State as State } from '@maas/protos';
import type { Assignments, ModelReport, WorkerReport } from '@maas/cluster-state';

/**
 * A model the worker is letting go: assigned away, its versions UNLOADING (or already ended), none
 * loading or serving. Its copy is on the way out whatever placement writes next.
 */
function leaving(model: ModelReport): boolean {
  return model.versions.some((v) => v.state === State.UNLOADING) && model.versions.every((v) => v.state === State.UNLOADING || v.state === State.END);
}

/** The models a worker's report says it keeps: some version loading or serving (or failed, which placement drops itself). */
export function reportedHolding(report: WorkerReport): string[] {
  return report.models.filter((m) => m.versions.length > 0 && !leaving(m)).map((m) => m.name);
}

/**
 * Where a placement round starts from: the assignments written, and for a worker with none (Redis
 * restarted or flushed, or a worker new to the cluster) what it holds by its report in Redis now.
 * A scheduler's view keeps a worker's report from before a flush until the worker reports again,
 * and that report may show a copy the worker has since unloaded: counted, it could win over the
 * live copy elsewhere, which placement would then unload. So a worker without an assignment and
 * without a report in `reported` (read from Redis this round) makes the answer undefined: the
 * round waits for it to report again, or to leave the view.
 */
export function startingAssignments(workerIds: readonly string[], written: Assignments, reported: ReadonlyMap<string, WorkerReport>): Assignments | undefined {
  const current: Assignments = { ...written };
  for (const id of workerIds) {
    if (current[id] !== undefined) continue;
    const report = reported.get(id);
    if (!report) return undefined;
    current[id] = reportedHolding(report);
  }
  return current;
}
