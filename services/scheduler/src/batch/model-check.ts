import { ModelVersionStatus_State as State, type ModelSpec } from '@maas/protos';
import { FailedPreconditionError, NotFoundError } from '@maas/errors';
import type { BatchModelSpec } from '@maas/batch-jobs';
import { DEFAULT_SIGNATURE, describeServableRequest, servableRequestFrom } from '@maas/serving-api';
import type { WorkerView } from '../cluster/worker-view.js';

/**
 * The model a job asks for, checked at submit against the catalogue and the workers' reports
 * (TF Serving's NOT_FOUND wording), so a typo fails the submit rather than every row.
 */
export function checkModel(view: Pick<WorkerView, 'catalog' | 'workers'>, spec: ModelSpec | undefined): BatchModelSpec {
  const request = servableRequestFrom(spec);
  if (request.signatureName !== DEFAULT_SIGNATURE) throw new FailedPreconditionError(`Serving signature key "${request.signatureName}" not found.`);
  const entry = view.catalog.get(request.name);
  if (!entry) throw new NotFoundError(`Servable not found for request: ${describeServableRequest(request)}: ${request.name} is not in the cluster's catalogue`);
  const model: BatchModelSpec = { name: request.name, signatureName: spec?.signatureName ?? '' };
  if (request.choice.kind === 'label') {
    if (entry.labels[request.choice.label] === undefined) throw new NotFoundError(`Servable not found for request: ${describeServableRequest(request)}`);
    model.label = request.choice.label;
  }
  if (request.choice.kind === 'specific') {
    const version = request.choice.version;
    const reports = view.workers.flatMap((w) => w.models.filter((m) => m.name === request.name));
    // Versions are only known from workers holding the model; with none, the chunks wait for one.
    if (reports.length > 0 && !reports.some((m) => m.versions.some((v) => v.version === version && v.state !== State.END))) {
      throw new NotFoundError(`Servable not found for request: ${describeServableRequest(request)}`);
    }
    model.version = version;
  }
  return model;
}
