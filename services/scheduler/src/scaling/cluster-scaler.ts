import type { Assignments, ModelScaling, ReplicaRange, ScalingStatus, WorkerReport } from '@maas/cluster-state';
import type { PlacementModel } from '../cluster/placement.js';
import { fleetShortage, modelsOnGpu, workerKind } from './fleet-shortage.js';
import { HorizontalAutoscaler, type ScalingDecision } from './horizontal-autoscaler.js';
import { DEFAULT_SCALING, scalingPolicy, type ScalingDefaults, type ScalingPolicy } from './scaling-policy.js';

/** A worker as placement sees it, plus what the shortage needs to know. */
export interface ScalingWorker {
  report: WorkerReport;
  budgetBytes: number;
}

/** Replicas of each model on the workers of an assignment. */
export function replicaCounts(assignments: Assignments): Map<string, number> {
  const counts = new Map<string, number>();
  for (const names of Object.values(assignments)) for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

/**
 * The autoscaling step of a placement round: before placement, set each model's wanted replica
 * count from the workers' load reports and the routers' cold-start demand; after it, say what
 * could not be placed and which workers are idle. The placement leader and the simulator both
 * run it.
 */
export class ClusterScaler {
  readonly autoscaler = new HorizontalAutoscaler();
  /** Policies by range object: the catalogue's ranges change only when it is rewritten. */
  private readonly policies = new WeakMap<ReplicaRange, ScalingPolicy>();

  constructor(readonly defaults: ScalingDefaults = DEFAULT_SCALING) {}

  /** Sets `wanted` on every model; returns the decisions behind them. */
  plan(models: PlacementModel[], reports: readonly WorkerReport[], current: Assignments, demand: ReadonlyMap<string, number>, now: number): Map<string, ScalingDecision> {
    this.autoscaler.observe(reports, now);
    const placed = replicaCounts(current);
    const decisions = new Map<string, ScalingDecision>();
    for (const model of models) {
      const decision = this.autoscaler.decide(
        { name: model.name, policy: this.policy(model.replicas), placed: placed.get(model.name) ?? 0, demandAt: demand.get(model.name) },
        now,
      );
      model.wanted = decision.wanted;
      decisions.set(model.name, decision);
    }
    this.autoscaler.retain(new Set(models.map((m) => m.name)));
    return decisions;
  }

  private policy(range: ReplicaRange): ScalingPolicy {
    let policy = this.policies.get(range);
    if (!policy) this.policies.set(range, (policy = scalingPolicy(range, this.defaults)));
    return policy;
  }

  /** What placement made of the plan, for DescribeCluster, metrics and an external fleet autoscaler. */
  status(
    models: readonly PlacementModel[],
    decisions: ReadonlyMap<string, ScalingDecision>,
    workers: readonly ScalingWorker[],
    assignments: Assignments,
    unplaced: Readonly<Record<string, number>>,
    now: number,
    /** Models that failed to load somewhere, in words (LoadFailures.describe). */
    loadFailures: ReadonlyMap<string, string> = new Map(),
  ): ScalingStatus {
    const placed = replicaCounts(assignments);
    const onGpu = modelsOnGpu(workers.map((w) => w.report));
    const shortage = fleetShortage(
      models.map((m) => ({ name: m.name, memoryBytes: m.memoryBytes, kind: m.prefersGpu || onGpu.has(m.name) ? 'gpu' : 'cpu' })),
      workers.map((w) => ({ id: w.report.id, kind: workerKind(w.report), budgetBytes: w.budgetBytes, inFlight: w.report.inFlight })),
      assignments,
      unplaced,
    );
    const byModel: Record<string, ModelScaling> = {};
    for (const model of models) {
      const decision = decisions.get(model.name);
      byModel[model.name] = {
        wanted: model.wanted ?? 0,
        placed: placed.get(model.name) ?? 0,
        unplaced: unplaced[model.name] ?? 0,
        reason: [decision ? describe(decision) : 'not autoscaled', loadFailures.get(model.name)].filter(Boolean).join('; '),
      };
    }
    return { at: now, models: byModel, ...shortage };
  }
}

function describe(decision: ScalingDecision): string {
  const { load } = decision;
  return `${decision.reason}: concurrency ${load.concurrency.toFixed(2)}, ${load.requests} requests in window, p95 ${load.p95Ms.toFixed(1)} ms`;
}
