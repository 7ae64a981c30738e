import type { RedisOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ChunkPlan } from './input-plan.js';

/** Data of a chunk job: which rows, of which batch job. */
export interface ChunkJobData extends ChunkPlan {
  jobId: string;
}

/** Data of a job's parent (finalize) job. */
export interface FinalizeJobData {
  jobId: string;
}

/** Highest batch priority; BullMQ runs lower numbers first and jobs without one before all others, so every job gets one. */
export const MAX_PRIORITY = 1000;

export function bullPriority(priority: number): number {
  return 1 + MAX_PRIORITY - priority;
}

/**
 * Connection options for BullMQ's own connections, taken from an existing client (same server,
 * credentials and reconnect policy). BullMQ needs maxRetriesPerRequest null: its blocking reads
 * wait for jobs, and commands must wait out a Redis restart instead of failing.
 */
export function bullConnection(redis: Redis): RedisOptions {
  const { retryStrategy, ...options } = redis.options;
  return { ...options, retryStrategy: retryStrategy ?? undefined, maxRetriesPerRequest: null };
}
