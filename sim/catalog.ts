import type { ReplicaRange } from '@maas/cluster-state';
import type { SimConfig } from './config.js';
import { Random } from './random.js';

const MIB = 1024 * 1024;

/** One simulated model: what placement sees (name, range, memory) and what the traffic model needs. */
export interface SimModel {
  index: number;
  name: string;
  /** Popularity rank (0 = most requested); independent of the name order placement uses. */
  rank: number;
  memoryBytes: number;
  /** Mean time of one request on a cpu worker. */
  serviceMs: number;
  objectiveMs: number;
  range: ReplicaRange;
  /** Its runtime config prefers a GPU provider: faster on GPU workers, where it takes GPU memory (as much as host memory). */
  prefersGpu: boolean;
}

const clip = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** The model catalogue: sizes and speeds drawn log-normal, popular models kept warm (min 1), the tail may go to zero. */
export function buildCatalog(config: SimConfig): SimModel[] {
  const random = new Random(config.seed * 7919 + 1);
  // Its own stream, so the sizes and speeds stay those of runs before GPU models existed.
  const gpuRandom = new Random(config.seed * 7919 + 2);
  const ranks = Array.from({ length: config.models }, (_, i) => i);
  for (let i = ranks.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [ranks[i], ranks[j]] = [ranks[j]!, ranks[i]!];
  }
  return ranks.map((rank, index) => {
    const m = config.modelMemoryMiB;
    const s = config.serviceMs;
    const serviceMs = clip(random.logNormal(s.median, s.sigma), s.min, s.max);
    const warm = rank < config.warmModels;
    const prefersGpu = gpuRandom.next() < config.gpuModelShare;
    return {
      index,
      name: `model-${String(index).padStart(5, '0')}`,
      rank,
      memoryBytes: Math.round(clip(random.logNormal(m.median, m.sigma), m.min, m.max) * MIB),
      serviceMs,
      objectiveMs: Math.max(config.objectiveFloorMs, config.objectiveFactor * serviceMs),
      range: warm ? { min: 1, max: config.maxReplicas.warm } : { min: 0, max: config.maxReplicas.cold },
      prefersGpu,
    };
  });
}
