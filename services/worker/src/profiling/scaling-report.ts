import { ModelVersionStatus_State as State } from '@maas/protos';
import type { ModelReport } from '@maas/cluster-state';
import type { LoadMeter } from './load-meter.js';
import type { VerticalProfiler } from './vertical-profiler.js';

/**
 * Adds what the autoscaler reads to a worker's model reports: each model's load counters, each
 * version's vertical profile, and, for models about to be unloaded (no longer assigned here), their
 * available versions as UNLOADING so routers stop sending them requests before they go.
 */
export function withScalingSignals(models: ModelReport[], meter: LoadMeter, profiler: VerticalProfiler | undefined, leaving: ReadonlySet<string>): ModelReport[] {
  return models.map((model) => ({
    ...model,
    load: meter.load(model.name) ?? { inFlight: 0, requests: 0, busyMs: 0, p95Ms: 0, recent: 0, windowMs: 0 },
    versions: model.versions.map((v) => ({
      ...v,
      state: leaving.has(model.name) && v.state === State.AVAILABLE ? State.UNLOADING : v.state,
      profile: profiler?.profileOf(`${model.name}:${v.version}`),
    })),
  }));
}
