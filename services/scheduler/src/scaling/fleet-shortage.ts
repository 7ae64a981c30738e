import type { Assignments, WorkerReport, WorkerShortage } from '@maas/cluster-state';

export interface ShortageModel {
  name: string;
  memoryBytes: number;
  /** The worker kind its replicas run on ('gpu' once any replica runs on a GPU provider). */
  kind: string;
}

export interface ShortageWorker {
  id: string;
  kind: string;
  budgetBytes: number;
  inFlight: number;
}

export interface FleetShortage {
  missingWorkers: WorkerShortage[];
  removableWorkers: string[];
}

/** 'gpu' when the worker has a usable non-cpu execution provider, else 'cpu'. */
export function workerKind(report: Pick<WorkerReport, 'capacity'>): string {
  return report.capacity.providers.some((p) => p !== 'cpu') ? 'gpu' : 'cpu';
}

/** Models with a replica running on a GPU provider somewhere: their missing replicas need 'gpu' workers. */
export function modelsOnGpu(reports: readonly WorkerReport[]): Set<string> {
  const found = new Set<string>();
  for (const report of reports) {
    for (const m of report.models) if (m.versions.some((v) => v.provider !== undefined && v.provider !== 'cpu')) found.add(m.name);
  }
  return found;
}

/**
 * What an external autoscaler (HPA/KEDA, a cloud group) should do with the fleet after a placement
 * round: the workers of each kind the unplaced replicas need (by memory, and at least one per
 * unplaced copy of a model, since copies go to distinct workers), and the idle workers with
 * nothing placed that can be stopped (they drain on SIGTERM). One worker of each kind is kept so a
 * cold start has somewhere to land.
 */
export function fleetShortage(
  models: readonly ShortageModel[],
  workers: readonly ShortageWorker[],
  assignments: Assignments,
  unplaced: Readonly<Record<string, number>>,
): FleetShortage {
  const byName = new Map(models.map((m) => [m.name, m]));
  const needs = new Map<string, { bytes: number; copies: number }>();
  for (const [name, count] of Object.entries(unplaced)) {
    const model = byName.get(name);
    if (!model || count <= 0) continue;
    const need = needs.get(model.kind) ?? { bytes: 0, copies: 0 };
    need.bytes += count * model.memoryBytes;
    need.copies = Math.max(need.copies, count);
    needs.set(model.kind, need);
  }
  const missingWorkers = [...needs].map(([kind, need]) => {
    const budget = medianBudget(workers.filter((w) => w.kind === kind)) ?? medianBudget(workers) ?? need.bytes;
    return { kind, count: Math.max(need.copies, Math.ceil(need.bytes / Math.max(1, budget))), memoryBytes: need.bytes };
  });

  const removableWorkers: string[] = [];
  for (const kind of new Set(workers.map((w) => w.kind))) {
    if (needs.has(kind)) continue;
    const ofKind = workers.filter((w) => w.kind === kind);
    const idle = ofKind.filter((w) => (assignments[w.id]?.length ?? 0) === 0 && w.inFlight === 0);
    removableWorkers.push(...idle.slice(0, Math.min(idle.length, ofKind.length - 1)).map((w) => w.id));
  }
  return { missingWorkers, removableWorkers: removableWorkers.sort() };
}

function medianBudget(workers: readonly ShortageWorker[]): number | undefined {
  if (workers.length === 0) return undefined;
  const sorted = workers.map((w) => w.budgetBytes).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
