import type { ReplicaRange, ScalingSettings } from '@maas/cluster-state';

/** A model's autoscaling settings with every default filled in. */
export interface ScalingPolicy extends Required<Omit<ScalingSettings, 'latencyObjectiveMs'>> {
  min: number;
  max: number;
  /** Unset: only the concurrency target drives the count. */
  latencyObjectiveMs?: number;
  /** Relative band around the target inside which the count stays (hysteresis against flapping). */
  tolerance: number;
}

export type ScalingDefaults = Omit<ScalingPolicy, 'min' | 'max'>;

/**
 * Defaults in the spirit of Kubernetes' HPA: react to a rise within seconds, to a fall only after
 * it has lasted, and never act on a change smaller than the tolerance.
 */
export const DEFAULT_SCALING: ScalingDefaults = {
  targetInFlight: 2,
  windowMs: 10_000,
  scaleUpDelayMs: 2_000,
  scaleDownDelayMs: 30_000,
  idleMs: 300_000,
  tolerance: 0.1,
};

/** The policy of one model: its stored range and settings over the scheduler's defaults. */
export function scalingPolicy(range: ReplicaRange, defaults: ScalingDefaults = DEFAULT_SCALING): ScalingPolicy {
  return {
    min: range.min,
    max: Math.max(range.min, range.max),
    targetInFlight: positive(range.targetInFlight) ?? defaults.targetInFlight,
    latencyObjectiveMs: positive(range.latencyObjectiveMs) ?? defaults.latencyObjectiveMs,
    windowMs: positive(range.windowMs) ?? defaults.windowMs,
    scaleUpDelayMs: nonNegative(range.scaleUpDelayMs) ?? defaults.scaleUpDelayMs,
    scaleDownDelayMs: nonNegative(range.scaleDownDelayMs) ?? defaults.scaleDownDelayMs,
    idleMs: positive(range.idleMs) ?? defaults.idleMs,
    tolerance: defaults.tolerance,
  };
}

function positive(value: number | undefined): number | undefined {
  return value !== undefined && value > 0 ? value : undefined;
}

function nonNegative(value: number | undefined): number | undefined {
  return value !== undefined && value >= 0 ? value : undefined;
}
