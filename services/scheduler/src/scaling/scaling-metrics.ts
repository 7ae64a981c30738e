import type { ScalingStatus, WorkerReport } from '@maas/cluster-state';
import { workerKind } from './fleet-shortage.js';

/**
 * maas_workers_wanted{kind}: workers of each kind now (not draining), less the idle ones the last
 * placement round found removable, plus those missing for replicas that did not fit. A
 * HorizontalPodAutoscaler on it (deploy/overlays/gpu-production/autoscaling.yaml) grows the fleet
 * by the shortage and shrinks it by the idle workers; a removed worker drains and its models are
 * placed on the others.
 */
export function workersWanted(workers: readonly WorkerReport[], status: ScalingStatus | undefined): Array<{ kind: string; count: number }> {
  const removable = new Set(status?.removableWorkers ?? []);
  const counts = new Map<string, number>([['cpu', 0]]);
  for (const w of workers) {
    if (w.draining || removable.has(w.id)) continue;
    counts.set(workerKind(w), (counts.get(workerKind(w)) ?? 0) + 1);
  }
  for (const missing of status?.missingWorkers ?? []) counts.set(missing.kind, (counts.get(missing.kind) ?? 0) + missing.count);
  return [...counts].map(([kind, count]) => ({ kind, count }));
}
