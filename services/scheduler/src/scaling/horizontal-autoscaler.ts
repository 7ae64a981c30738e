import type { WorkerReport } from '@maas/cluster-state';
import { LoadWindow, type WindowedLoad } from './load-window.js';
import { DEFAULT_SCALING, type ScalingPolicy } from './scaling-policy.js';

/** What one model's count rests on, for status and logs. */
export type ScalingReason =
  | 'concurrency' // ceil(concurrency / target)
  | 'latency' // p95 above the objective
  | 'within-tolerance' // the change would be smaller than the tolerance
  | 'near-objective' // p95 close to the objective: no scale-down
  | 'waiting-delay' // a change recommended, not yet for long enough
  | 'demand' // a request waits for a model at zero
  | 'idle' // min 0 and no request for idleMs
  | 'min'
  | 'max';

export interface ScalingDecision {
  wanted: number;
  reason: ScalingReason;
  load: WindowedLoad;
}

export interface ModelSignals {
  name: string;
  policy: ScalingPolicy;
  /** Replicas placed now; the starting count when the model is first seen. */
  placed: number;
  /** Latest cold-start demand (epoch ms) a router recorded, if any. */
  demandAt?: number;
}

interface ModelState {
  current: number;
  firstSeenAt: number;
  /**
   * When the model last went from no replicas to some, or was first seen with some: the idle
   * period counts from there at the latest. A model first seen at zero (a new leader) is not woken.
   */
  cameUpAt: number;
  /** Recent raw recommendations, oldest first. */
  history: Array<{ at: number; count: number }>;
}

/**
 * Horizontal autoscaling per model, HPA-style: a raw recommendation each round from the load the
 * workers report (mean outstanding requests over the look-back window divided by the per-replica
 * target, raised when p95 latency is above the objective), then stabilized: a rise is applied once
 * it has been recommended for scaleUpDelayMs (the lowest recent recommendation wins), a fall once
 * for scaleDownDelayMs (the highest wins), and changes inside the tolerance band are ignored. With
 * min 0 a model idle for idleMs goes to zero at once, and demand at zero brings one replica at once.
 * Pure apart from its memory of past rounds, with time passed in: the scheduler and the simulator
 * drive the same code.
 */
export class HorizontalAutoscaler {
  readonly window = new LoadWindow(DEFAULT_SCALING.windowMs);
  private readonly models = new Map<string, ModelState>();

  observe(reports: readonly WorkerReport[], now: number): void {
    this.window.observe(reports, now);
  }

  decide(signals: ModelSignals, now: number): ScalingDecision {
    const policy = signals.policy;
    this.window.keep(policy.windowMs);
    let state = this.models.get(signals.name);
    if (!state) {
      state = { current: signals.placed, firstSeenAt: now, cameUpAt: signals.placed > 0 ? now : -Infinity, history: [] };
      this.models.set(signals.name, state);
    }
    const previous = state.current;
    state.current = clamp(state.current, policy); // a changed range applies at once
    const load = this.window.load(signals.name, policy.windowMs, now);
    const raw = this.recommend(signals, state, load, now);
    const count = clamp(raw.count, policy);
    const reason: ScalingReason = count > raw.count ? 'min' : count < raw.count ? 'max' : raw.reason;
    state.history.push({ at: now, count });
    const horizon = now - Math.max(policy.scaleUpDelayMs, policy.scaleDownDelayMs);
    while (state.history.length > 1 && state.history[0]!.at < horizon) state.history.shift();

    let wanted = state.current;
    let why = reason;
    if (reason === 'idle' || reason === 'demand' || (state.current === 0 && count > 0)) {
      wanted = count; // scale to zero and cold starts take effect at once
    } else if (count > state.current) {
      wanted = Math.max(state.current, this.lowestSince(state, now - policy.scaleUpDelayMs));
    } else if (count < state.current && now - state.firstSeenAt >= policy.scaleDownDelayMs) {
      wanted = Math.min(state.current, this.highestSince(state, now - policy.scaleDownDelayMs));
    }
    if (wanted === state.current && count !== state.current) why = 'waiting-delay';
    if (previous === 0 && wanted > 0) state.cameUpAt = now;
    state.current = wanted;
    return { wanted, reason: why, load };
  }

  /** Forgets models no longer in the catalogue. */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.models.keys()) if (!names.has(name)) this.models.delete(name);
  }

  private recommend(signals: ModelSignals, state: ModelState, load: WindowedLoad, now: number): { count: number; reason: ScalingReason } {
    const policy = signals.policy;
    const lastActive = Math.max(load.lastActiveAt, signals.demandAt ?? -Infinity, state.cameUpAt);
    if (policy.min === 0 && now - lastActive >= policy.idleMs && load.inFlight === 0) return { count: 0, reason: 'idle' };
    if (state.current === 0 && signals.demandAt !== undefined && signals.demandAt >= now - policy.idleMs) {
      return { count: Math.max(1, Math.ceil(load.concurrency / policy.targetInFlight)), reason: 'demand' };
    }
    const current = state.current;
    let count = Math.ceil(load.concurrency / policy.targetInFlight - 1e-9);
    let reason: ScalingReason = 'concurrency';
    if (current > 0 && Math.abs(load.concurrency / (policy.targetInFlight * current) - 1) <= policy.tolerance) {
      count = current;
      reason = 'within-tolerance';
    }
    const objective = policy.latencyObjectiveMs;
    if (objective !== undefined && load.p95Ms > objective) {
      const byLatency = Math.max(current + 1, Math.ceil(current * (load.p95Ms / objective)));
      if (byLatency > count) {
        count = byLatency;
        reason = 'latency';
      }
    } else if (objective !== undefined && load.p95Ms > objective * (1 - policy.tolerance) && count < current) {
      count = current;
      reason = 'near-objective';
    }
    return { count: Math.max(1, count), reason }; // a model in use keeps a replica
  }

  private lowestSince(state: ModelState, since: number): number {
    let lowest = Infinity;
    for (const entry of state.history) if (entry.at >= since) lowest = Math.min(lowest, entry.count);
    return lowest;
  }

  private highestSince(state: ModelState, since: number): number {
    let highest = 0;
    for (const entry of state.history) if (entry.at >= since) highest = Math.max(highest, entry.count);
    return highest;
  }
}

function clamp(count: number, policy: ScalingPolicy): number {
  return Math.min(policy.max, Math.max(policy.min, count));
}
