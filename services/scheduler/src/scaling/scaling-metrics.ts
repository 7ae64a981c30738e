import type { ScalingStatus } from '@maas/cluster-state';

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
