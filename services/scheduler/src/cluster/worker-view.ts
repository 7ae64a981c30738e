import { ModelServerConfig } from '@maas/protos';
import type { ClusterState, StoredCatalog, WorkerReport } from '@maas/cluster-state';
import { entriesFromConfig, type ModelEntry } from '@maas/registry';

/** How long after Redis comes back workers may take to reconnect and re-report. */
const REDIS_RECOVERY_GRACE_MS = 5000;

/**
 * The scheduler's picture of the cluster: live workers' reports and the catalogue, refreshed from
 * Redis on a short period. When Redis is unreachable the last picture stays in use, so models
 * already placed keep being served; it is rebuilt from the workers' own reports when Redis returns.
 */
export class WorkerView {
  workers: WorkerReport[] = [];
  catalog = new Map<string, ModelEntry>();
  storedCatalog?: StoredCatalog;
  private catalogRevision = -1;
  private timer?: NodeJS.Timeout;
  /** Workers a call just failed on; skipped until their next report says otherwise. */
  private readonly suspects = new Map<string, number>();
  /** Local time each worker's report was last read from Redis. */
  private readonly seenAt = new Map<string, number>();
  /** When a refresh last failed because Redis was unreachable. */
  private redisFailedAt = 0;

  constructor(
    private readonly state: ClusterState,
    private readonly refreshMs: number,
    private readonly log: (message: string) => void,
  ) {}

  async start(): Promise<void> {
    await this.refresh().catch((error: Error) => this.log(`initial refresh failed: ${error.message}`));
    const loop = () => {
      this.timer = setTimeout(() => void this.refresh().catch(() => {}).finally(loop), this.refreshMs);
    };
    loop();
  }

  async refresh(): Promise<void> {
    let workers: WorkerReport[];
    let stored: StoredCatalog | undefined;
    try {
      [workers, stored] = await Promise.all([this.state.liveWorkers(), this.state.catalog()]);
    } catch (error) {
      this.redisFailedAt = Date.now();
      throw error;
    }
    const now = Date.now();
    for (const w of workers) this.seenAt.set(w.id, now);
    // A worker missing from Redis stays until its own report would have expired: after a Redis
    // restart or flush, live workers re-report within one heartbeat and routing never notices.
    // Right after Redis was unreachable, workers also need their reconnect time, so the grace is longer.
    const recovering = now - this.redisFailedAt < REDIS_RECOVERY_GRACE_MS;
    const graceFor = (w: WorkerReport) => (recovering ? Math.max(w.ttlMs, REDIS_RECOVERY_GRACE_MS) : w.ttlMs);
    const lastSeen = (w: WorkerReport) => Math.max(this.seenAt.get(w.id) ?? 0, recovering ? this.redisFailedAt : 0);
    const fresh = new Set(workers.map((w) => w.id));
    const lingering = this.workers.filter((w) => !fresh.has(w.id) && now - lastSeen(w) < graceFor(w));
    for (const w of this.workers) if (!fresh.has(w.id) && !lingering.includes(w)) this.seenAt.delete(w.id);
    this.workers = [...workers, ...lingering];
    if (stored && stored.revision !== this.catalogRevision) {
      this.catalog = new Map(entriesFromConfig(ModelServerConfig.decode(Buffer.from(stored.config, 'base64'))).map((e) => [e.name, e]));
      this.catalogRevision = stored.revision;
    }
    if (stored) this.storedCatalog = stored;
  }

  /** Marks a worker unusable until a report newer than now arrives. */
  suspect(workerId: string): void {
    this.suspects.set(workerId, Date.now());
  }

  /** Workers that can take new requests. */
  routable(): WorkerReport[] {
    return this.workers.filter((w) => this.isRoutable(w));
  }

  isRoutable(worker: WorkerReport): boolean {
    if (worker.draining) return false;
    const since = this.suspects.get(worker.id);
    return since === undefined || worker.reportedAt > since;
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
