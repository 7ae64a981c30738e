import { Code, type GetModelStatusRequest, type GetModelStatusResponse, type ModelVersionStatus } from '@maas/protos';
import { InvalidArgumentError, NotFoundError } from '@maas/errors';
import type { ServedModel } from './served-model.js';

/** GetModelStatus for one model on this worker (shared/spec §6.4): versions newest first. */
export function modelStatus(model: ServedModel | undefined, request: GetModelStatusRequest): GetModelStatusResponse {
  const spec = request.modelSpec;
  if (!spec) throw new InvalidArgumentError('Missing ModelSpec');
  if (!spec.name) throw new InvalidArgumentError('ModelSpec has no name specified.');
  if (!model || model.versions.size === 0) throw new NotFoundError(`Could not find any versions of model ${spec.name}`);
  let versions = [...model.versions.values()];
  if (spec.version !== undefined) {
    versions = versions.filter((v) => v.version === Number(spec.version));
    if (versions.length === 0) throw new NotFoundError(`Could not find version ${spec.version} of model ${spec.name}`);
  }
  const statuses: ModelVersionStatus[] = versions
    .sort((a, b) => b.version - a.version)
    .map((v) => ({
      version: BigInt(v.version),
      state: v.state,
      // TF error codes and gRPC status codes share their numbers.
      status: v.error ? { errorCode: v.error.code as Code, errorMessage: v.error.message } : { errorCode: Code.OK, errorMessage: '' },
    }));
  return { modelVersionStatus: statuses };
}
