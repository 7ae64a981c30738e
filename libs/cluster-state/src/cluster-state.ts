import { Redis } from 'ioredis';
import { clusterKeys, type ClusterKeys } from './keys.js';
import { sentinelOptions } from './sentinel-url.js';
import type { Assignments, StoredCatalog, WorkerReport } from './types.js';
import type { ScalingStatus } from './scaling-types.js';

export const DEFAULT_PREFIX = 'maas:';

/**
 * Typed access to the cluster's shared state in Redis. Every method is one or two round trips;
 * callers decide how often to call and what to do when Redis is away (they keep their last view).
 */
export class ClusterState {
  readonly keys: ClusterKeys;

  constructor(
    readonly redis: Redis,
    /** Start of every key (other stores on this Redis, e.g. batch jobs, use it too). */
    readonly prefix = DEFAULT_PREFIX,
  ) {
    this.keys = clusterKeys(prefix);
  }

  /** `url`: redis://, rediss://, or redis+sentinel:// naming sentinels and a master (sentinel-url.ts). */
  static connect(url: string, prefix = DEFAULT_PREFIX): ClusterState {
    // Retry forever with a short backoff: a restarted Redis must be picked up again on its own.
    const options = { maxRetriesPerRequest: 1, retryStrategy: (times: number) => Math.min(times * 100, 1000), lazyConnect: false };
    const sentinel = sentinelOptions(url);
    const redis = sentinel ? new Redis({ ...sentinel, ...options }) : new Redis(url, options);
    redis.on('error', () => {}); // reconnects are handled by ioredis; callers see failed commands
    return new ClusterState(redis, prefix);
  }

  // ---- workers

  /** Writes a heartbeat that expires after ttlMs unless renewed. */
  async publishReport(report: WorkerReport, ttlMs: number): Promise<void> {
    await this.redis
      .multi()
      .set(this.keys.worker(report.id), JSON.stringify(report), 'PX', ttlMs)
      .zadd(this.keys.workers, report.reportedAt, report.id)
      .exec();
  }

  /** Live workers' latest reports; ids whose heartbeat expired are pruned from the index. */
  async liveWorkers(): Promise<WorkerReport[]> {
    const ids = await this.redis.zrange(this.keys.workers, 0, -1);
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map((id) => this.keys.worker(id)));
    const dead = ids.filter((_, i) => values[i] === null);
    if (dead.length > 0) await this.redis.zrem(this.keys.workers, ...dead);
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as WorkerReport);
  }

  async removeWorker(id: string): Promise<void> {
    await this.redis.multi().del(this.keys.worker(id)).zrem(this.keys.workers, id).exec();
  }

  // ---- assignments

  /** The models placed on a worker; undefined when no placement was ever written (e.g. Redis was flushed). */
  async assignment(workerId: string): Promise<string[] | undefined> {
    const value = await this.redis.get(this.keys.assignment(workerId));
    return value === null ? undefined : (JSON.parse(value) as string[]);
  }

  /** Assignments of the given workers; a worker with none written is left out. */
  async assignments(workerIds: readonly string[]): Promise<Assignments> {
    if (workerIds.length === 0) return {};
    const values = await this.redis.mget(workerIds.map((id) => this.keys.assignment(id)));
    const found: Assignments = {};
    workerIds.forEach((id, i) => {
      if (values[i]) found[id] = JSON.parse(values[i]!) as string[];
    });
    return found;
  }

  async writeAssignments(assignments: Assignments): Promise<void> {
    const batch = this.redis.multi();
    for (const [id, models] of Object.entries(assignments)) batch.set(this.keys.assignment(id), JSON.stringify(models));
    batch.publish(this.keys.events, 'assignments');
    await batch.exec();
  }

  // ---- catalogue

  async catalog(): Promise<StoredCatalog | undefined> {
    const value = await this.redis.get(this.keys.catalog);
    return value === null ? undefined : (JSON.parse(value) as StoredCatalog);
  }

  async writeCatalog(catalog: StoredCatalog): Promise<void> {
    await this.redis.multi().set(this.keys.catalog, JSON.stringify(catalog)).publish(this.keys.events, 'catalog').exec();
  }

  // ---- autoscaling

  /** Notes that a request for `model` found no replica (a router waits for a cold start). */
  async recordDemand(model: string, at: number): Promise<void> {
    await this.redis.zadd(this.keys.demand, at, model);
  }

  /** Models with demand at or after `since` -> its latest time; older entries are pruned. */
  async demandSince(since: number): Promise<Map<string, number>> {
    const [, found] = (await this.redis
      .multi()
      .zremrangebyscore(this.keys.demand, '-inf', `(${since}`)
      .zrangebyscore(this.keys.demand, since, '+inf', 'WITHSCORES')
      .exec())!;
    const flat = (found?.[1] ?? []) as string[];
    const demand = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) demand.set(flat[i]!, Number(flat[i + 1]));
    return demand;
  }

  async writeScalingStatus(status: ScalingStatus, ttlMs: number): Promise<void> {
    await this.redis.set(this.keys.scaling, JSON.stringify(status), 'PX', ttlMs);
  }

  /** The placement leader's last scaling status; undefined when no leader wrote one recently. */
  async scalingStatus(): Promise<ScalingStatus | undefined> {
    const value = await this.redis.get(this.keys.scaling);
    return value === null ? undefined : (JSON.parse(value) as ScalingStatus);
  }

  // ---- registry address and placement lease

  async advertiseRegistry(address: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.keys.registry, address, 'PX', ttlMs);
  }

  async registryAddress(): Promise<string | undefined> {
    return (await this.redis.get(this.keys.registry)) ?? undefined;
  }

  /** Takes or renews the placement lease; true while this holder leads. */
  async holdLease(holder: string, ttlMs: number): Promise<boolean> {
    const taken = await this.redis.set(this.keys.leader, holder, 'PX', ttlMs, 'NX');
    if (taken === 'OK') return true;
    // Renew only our own lease (check-and-extend atomically).
    const renewed = await this.redis.eval(
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end",
      1,
      this.keys.leader,
      holder,
      String(ttlMs),
    );
    return renewed === 1;
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
