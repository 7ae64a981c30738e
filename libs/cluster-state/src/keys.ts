/**
 * The Redis key layout (documented in docs/redis-layout.md). Every key starts with a prefix so
 * several clusters, or tests, can share one Redis.
 */
export function clusterKeys(prefix: string) {
  return {
    /** Sorted set: worker id -> last report time (ms). Members whose report expired are pruned. */
    workers: `${prefix}workers`,
    /** String (JSON WorkerReport) with a TTL: the worker's heartbeat. */
    worker: (id: string) => `${prefix}worker:${id}`,
    /** String (JSON string[]): model names placed on a worker, written by the placement leader. */
    assignment: (id: string) => `${prefix}assign:${id}`,
    /** String (JSON StoredCatalog): the registry's catalogue. */
    catalog: `${prefix}catalog`,
    /** String with a TTL: host:port of the live registry. */
    registry: `${prefix}registry`,
    /** String with a TTL: id of the scheduler that runs placement. */
    leader: `${prefix}placement-leader`,
    /** Sorted set: model -> epoch ms of the last request a router saw for it with no replica (cold-start demand). */
    demand: `${prefix}demand`,
    /** String (JSON ScalingStatus) with a TTL: the placement leader's last scaling verdict. */
    scaling: `${prefix}scaling`,
    /** Pub/sub channel: 'catalog' and 'assignments' change notices (an optimisation; readers also poll). */
    events: `${prefix}events`,
  };
}

export type ClusterKeys = ReturnType<typeof clusterKeys>;
