import { Code, ModelVersionStatus_State as State, type GetModelStatusResponse, type ModelSpec } from '@maas/protos';
import { InvalidArgumentError, NotFoundError } from '@maas/errors';
import type { VersionReport, WorkerReport } from './types.js';

/** How far along a state is, so the cluster reports each version at its best replica. */
const PROGRESS: Record<number, number> = {
  [State.AVAILABLE]: 5,
  [State.LOADING]: 4,
  [State.START]: 3,
  [State.UNLOADING]: 2,
  [State.END]: 1,
};

/** GetModelStatus over the whole cluster: each version at its most advanced replica, newest first. */
export function clusterModelStatus(reports: readonly WorkerReport[], spec: ModelSpec | undefined): GetModelStatusResponse {
  if (!spec) throw new InvalidArgumentError('Missing ModelSpec');
  if (!spec.name) throw new InvalidArgumentError('ModelSpec has no name specified.');
  const best = new Map<number, VersionReport>();
  for (const report of reports) {
    for (const version of report.models.find((m) => m.name === spec.name)?.versions ?? []) {
      const known = best.get(version.version);
      if (!known || (PROGRESS[version.state] ?? 0) > (PROGRESS[known.state] ?? 0)) best.set(version.version, version);
    }
  }
  if (best.size === 0) throw new NotFoundError(`Could not find any versions of model ${spec.name}`);
  let versions = [...best.values()];
  if (spec.version !== undefined) {
    versions = versions.filter((v) => v.version === Number(spec.version));
    if (versions.length === 0) throw new NotFoundError(`Could not find version ${spec.version} of model ${spec.name}`);
  }
  return {
    modelVersionStatus: versions
      .sort((a, b) => b.version - a.version)
      .map((v) => ({
        version: BigInt(v.version),
        state: v.state,
        status: v.error ? { errorCode: v.error.code as Code, errorMessage: v.error.message } : { errorCode: Code.OK, errorMessage: '' },
      })),
  };
}

/** Versions of a model that are AVAILABLE on a worker. */
export function availableVersions(report: WorkerReport, model: string): number[] {
  return (report.models.find((m) => m.name === model)?.versions ?? []).filter((v) => v.state === State.AVAILABLE).map((v) => v.version);
}
