import { ModelVersionStatus_State as State } from '@maas/protos';
import type { WorkerReport } from '@maas/cluster-state';

/** How long a worker is not given a model again after it failed to load it (it may have freed memory since). */
export const LOAD_FAILURE_RETRY_MS = 5 * 60_000;

interface Failure {
  at: number;
  message: string;
}

/**
 * Loads that failed on a worker (out of memory on its GPU, a provider it cannot run): the worker
 * reports the version ended with an error and keeps serving the rest, and placement then takes the
 * model off that worker and tries another one. Remembered here because the worker stops
 * reporting a model once it is assigned away; forgotten after `retryMs`, or when the worker leaves.
 */
export class LoadFailures {
  private readonly failures = new Map<string, Map<string, Failure>>();

  constructor(private readonly retryMs = LOAD_FAILURE_RETRY_MS) {}

  observe(reports: readonly WorkerReport[], now: number): void {
    const live = new Set(reports.map((r) => r.id));
    for (const id of this.failures.keys()) if (!live.has(id)) this.failures.delete(id);
    for (const report of reports) {
      for (const model of report.models) {
        const failed = model.versions.find((v) => v.error !== undefined && v.state === State.END);
        const pending = model.versions.some((v) => v.state !== State.END);
        if (!failed || pending) continue;
        let mine = this.failures.get(report.id);
        if (!mine) this.failures.set(report.id, (mine = new Map()));
        if (!mine.has(model.name)) mine.set(model.name, { at: now, message: failed.error!.message });
      }
    }
    for (const [id, mine] of this.failures) {
      for (const [name, failure] of mine) if (now - failure.at >= this.retryMs) mine.delete(name);
      if (mine.size === 0) this.failures.delete(id);
    }
  }

  /** Models that failed to load on this worker and are not to be placed there yet. */
  on(workerId: string): ReadonlySet<string> | undefined {
    const mine = this.failures.get(workerId);
    return mine && new Set(mine.keys());
  }

  /** Per model, in words: on how many workers it failed and the last error (for the scaling status). */
  describe(): Map<string, string> {
    const byModel = new Map<string, { workers: number; last: Failure }>();
    for (const mine of this.failures.values()) {
      for (const [name, failure] of mine) {
        const seen = byModel.get(name);
        byModel.set(name, { workers: (seen?.workers ?? 0) + 1, last: !seen || failure.at > seen.last.at ? failure : seen.last });
      }
    }
    return new Map([...byModel].map(([name, { workers, last }]) => [name, `failed to load on ${workers} worker(s), last: ${last.message}`]));
  }
}
