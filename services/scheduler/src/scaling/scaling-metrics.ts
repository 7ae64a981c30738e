import type { ScalingStatus, WorkerReport } from '@maas/cluster-state';
import { workerKind } from './fleet-shortage.js';

export interface ScalingGauge {
  name: string;
  help: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * The scaling status as gauges, for a metrics exporter (Prometheus names): per model wanted,
 * placed and unplaced replicas; per worker kind the workers missing; the count of removable
 * workers. An external autoscaler (HPA/KEDA) scales the fleet on maas_scaling_missing_workers and
 * maas_scaling_removable_workers.
 */
export function scalingGauges(status: ScalingStatus): ScalingGauge[] {
  const gauges: ScalingGauge[] = [];
  for (const [model, s] of Object.entries(status.models)) {
    gauges.push(
      { name: 'maas_scaling_wanted_replicas', help: 'Replicas the autoscaler wants', labels: { model }, value: s.wanted },
      { name: 'maas_scaling_placed_replicas', help: 'Replicas placed on workers', labels: { model }, value: s.placed },
      { name: 'maas_scaling_unplaced_replicas', help: 'Replicas wanted but not placed (no worker has room)', labels: { model }, value: s.unplaced },
    );
  }
  const kinds = new Set(['cpu', ...status.missingWorkers.map((m) => m.kind)]);
  for (const kind of kinds) {
    const missing = status.missingWorkers.find((m) => m.kind === kind);
    gauges.push({ name: 'maas_scaling_missing_workers', help: 'Workers the wanted replicas need beyond the fleet', labels: { kind }, value: missing?.count ?? 0 });
  }
  gauges.push({ name: 'maas_scaling_removable_workers', help: 'Idle workers with nothing placed that can be stopped', labels: {}, value: status.removableWorkers.length });
  return gauges;
}

/**
 * maas_workers_wanted{kind}: workers of each kind now (not draining) plus those missing for
 * replicas that did not fit. A HorizontalPodAutoscaler on it grows the fleet by the shortage and
 * never shrinks it below what is in use (deploy/overlays/gpu-production/autoscaling.yaml).
 */
export function workersWanted(workers: readonly WorkerReport[], status: ScalingStatus | undefined): Array<{ kind: string; count: number }> {
  const counts = new Map<string, number>([['cpu', 0]]);
  for (const w of workers.filter((w) => !w.draining)) counts.set(workerKind(w), (counts.get(workerKind(w)) ?? 0) + 1);
  for (const missing of status?.missingWorkers ?? []) counts.set(missing.kind, (counts.get(missing.kind) ?? 0) + missing.count);
  return [...counts].map(([kind, count]) => ({ kind, count }));
}
