import type { ModelPlacement, ScalingSettings as ScalingSettingsMessage, VersionProfileStatus, WorkerShortage as WorkerShortageMessage } from '@maas/protos';
import type { ScalingSettings, ScalingStatus } from './scaling-types.js';
import type { ReplicaRange, WorkerReport } from './types.js';

const SETTING_NAMES = ['targetInFlight', 'latencyObjectiveMs', 'windowMs', 'scaleUpDelayMs', 'scaleDownDelayMs', 'idleMs'] as const;

/** The settings of a SetReplicasRequest that were given (proto3 optional fields). */
export function scalingSettingsFrom(message: ScalingSettingsMessage): ScalingSettings {
  const settings: ScalingSettings = {};
  for (const name of SETTING_NAMES) if (message[name] !== undefined) settings[name] = message[name];
  return settings;
}

/** The autoscaling settings held in a replica range (without min and max). */
export function scalingSettingsOf(range: ReplicaRange): ScalingSettings {
  return scalingSettingsFrom(range);
}

/** A worker's vertical profiles, one per loaded version that has one. */
export function profileStatuses(report: WorkerReport): VersionProfileStatus[] {
  return report.models.flatMap((model) =>
    model.versions
      .filter((v) => v.profile !== undefined)
      .map((v) => {
        const p = v.profile!;
        return {
          model: model.name,
          version: BigInt(v.version),
          source: p.source,
          batchSize: p.chosen.batchSize,
          intraOpThreads: p.chosen.intraOpThreads,
          instances: p.chosen.instances,
          provider: p.chosen.provider,
          throughput: p.throughput ?? 0,
          p95Ms: p.p95Ms ?? 0,
          objectiveMs: p.objectiveMs,
          metObjective: p.metObjective,
          trials: p.trials.length,
          skipped: p.skipped,
          durationMs: Math.round(p.durationMs),
        };
      }),
  );
}

/** The scaling fields of DescribeCluster's ModelPlacement for one model. */
export function scalingPlacementFields(
  status: ScalingStatus | undefined,
  name: string,
  range: ReplicaRange,
): Pick<ModelPlacement, 'wantedReplicas' | 'unplacedReplicas' | 'scalingReason' | 'scaling'> {
  const model = status?.models[name];
  return {
    wantedReplicas: model?.wanted ?? 0,
    unplacedReplicas: model?.unplaced ?? 0,
    scalingReason: model?.reason ?? 'no placement leader has reported yet',
    scaling: scalingSettingsOf(range),
  };
}

export function shortageMessages(status: ScalingStatus | undefined): WorkerShortageMessage[] {
  return (status?.missingWorkers ?? []).map((m) => ({ kind: m.kind, count: m.count, memoryBytes: BigInt(Math.round(m.memoryBytes)) }));
}
