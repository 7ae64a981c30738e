import { UnavailableError } from '@maas/errors';
import type { ReplicaRange } from '@maas/cluster-state';

export interface ColdStartOptions {
  /** How often a waiting request looks for a ready replica (the view refreshes on its own period). */
  pollMs: number;
  /** Longest a request waits for a cold start, whatever its deadline. */
  maxWaitMs: number;
  /** Records demand where the autoscaler reads it (Redis); failures are logged, the wait goes on. */
  record: (model: string) => Promise<void>;
  log: (message: string) => void;
}

/** Demand is re-recorded this often while requests wait, so it stays newer than the autoscaler's last look. */
const RECORD_EVERY_MS = 500;

/**
 * The first requests for a model scaled to zero: record demand (the placement leader's autoscaler
 * turns it into one replica at once), then wait within the request's deadline until a replica is
 * ready. A deadline too short for the cold start ends with UNAVAILABLE naming it, answered early
 * enough to reach the client before its deadline does.
 */
export class ColdStart {
  private readonly recordedAt = new Map<string, number>();

  constructor(private readonly options: ColdStartOptions) {}

  /** Only models that may sit at zero wait; others answer at once (no ready replica is a fault there). */
  appliesTo(range: ReplicaRange | undefined): boolean {
    return range !== undefined && range.min === 0;
  }

  /** Resolves once `ready()` holds; UNAVAILABLE naming the cold start when the deadline comes first. */
  async waitFor(model: string, ready: () => boolean, deadline: number): Promise<void> {
    const started = Date.now();
    const remaining = deadline - started;
    const giveUpAt = Math.min(deadline - Math.min(100, remaining * 0.2), started + this.options.maxWaitMs);
    for (;;) {
      this.noteDemand(model);
      if (ready()) return;
      const now = Date.now();
      if (now >= giveUpAt) {
        throw new UnavailableError(
          `Cold start of model ${model}: it was scaled to zero and a replica is starting, but none was ready within the request's deadline ` +
            `(waited ${now - started} ms); retry, or allow a longer deadline`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.options.pollMs, giveUpAt - now)));
    }
  }

  private noteDemand(model: string): void {
    const now = Date.now();
    if (now - (this.recordedAt.get(model) ?? 0) < RECORD_EVERY_MS) return;
    this.recordedAt.set(model, now);
    this.options.record(model).catch((error: Error) => this.options.log(`recording demand for ${model} failed: ${error.message}`));
  }
}
