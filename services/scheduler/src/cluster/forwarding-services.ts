import type { Server, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { PredictRequest, PredictionServiceService, type ModelSpec } from '@maas/protos';
import { toGrpcError } from '@maas/errors';
import { batchingHintsFrom, metadataText } from '@maas/serving-api';
import { recordGrpcCall } from '@maas/telemetry';
import { firstOf, peekModelSpec, specField, type SpecStep } from './peek-model-spec.js';
import type { Router } from './router.js';

const identity = (bytes: Buffer) => bytes;

/** Where each PredictionService request keeps its ModelSpec (outermost first): model_spec = 1, MultiInference's in its first task. */
const SPEC_PATHS: Record<keyof typeof PredictionServiceService, SpecStep[]> = {
  predict: [specField(1)],
  classify: [specField(1)],
  regress: [specField(1)],
  getModelMetadata: [specField(1)],
  multiInference: [firstOf(1), specField(1)],
};

/** Where each response keeps the ModelSpec of the version that answered (for metrics). */
const RESPONSE_SPEC_PATHS: Record<keyof typeof PredictionServiceService, SpecStep[]> = {
  predict: [specField(2)],
  classify: [specField(2)],
  regress: [specField(2)],
  getModelMetadata: [specField(1)],
  multiInference: [firstOf(1), specField(1)],
};

/**
 * A request naming a version label is sent on with the version this scheduler routed it to, so a
 * worker whose label table is a moment behind or ahead cannot answer from another version. The
 * ModelSpec is appended as a second model_spec (field 1 in every top-level request): a parser
 * keeps the last copy, or merges it, which sets the version in place of the label.
 */
export function pinLabelledVersion(request: Buffer, spec: ModelSpec | undefined, path: readonly SpecStep[], versionOf: (name: string, label: string) => number | undefined): Buffer {
  if (spec?.versionLabel === undefined || path.length !== 1) return request;
  const version = versionOf(spec.name, spec.versionLabel);
  if (version === undefined) return request;
  const pinned = PredictRequest.encode(PredictRequest.fromPartial({ modelSpec: { name: spec.name, version: BigInt(version), signatureName: spec.signatureName } })).finish();
  return Buffer.concat([request, pinned]);
}

/** The answering version's ModelSpec, for metrics only: a worker's odd answer must not fail the call here. */
function answeredSpec(method: string, response: Buffer, path: readonly SpecStep[]): ModelSpec | undefined {
  try {
    return peekModelSpec(method, response, path);
  } catch {
    return undefined;
  }
}

/**
 * PredictionService at the front door, forwarding request bytes to a worker untouched: only the
 * ModelSpec is read, to route. Responses come back as the worker encoded them.
 */
export function addForwardedPredictionService(server: Server, router: Router): void {
  const definition: Record<string, object> = {};
  const handlers: Record<string, (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => void> = {};
  for (const [key, method] of Object.entries(PredictionServiceService)) {
    definition[key] = { ...method, requestDeserialize: identity, responseSerialize: identity };
    const specPath = SPEC_PATHS[key as keyof typeof SPEC_PATHS];
    handlers[key] = (call, callback) => {
      const deadline = call.getDeadline();
      const millis = deadline instanceof Date ? deadline.getTime() : deadline;
      const started = performance.now();
      let spec: ModelSpec | undefined;
      const seconds = () => (performance.now() - started) / 1000;
      Promise.resolve()
        .then(() => {
          spec = peekModelSpec(method.path, call.request, specPath);
          const hints = batchingHintsFrom((name) => metadataText(call.metadata, name));
          const request = pinLabelledVersion(call.request, spec, specPath, (name, label) => router.labelledVersion(name, label));
          return router.forward(method.path, request, spec, Number.isFinite(millis) ? millis : undefined, hints);
        })
        .then(
          (response) => {
            const answered = answeredSpec(method.path, response, RESPONSE_SPEC_PATHS[key as keyof typeof RESPONSE_SPEC_PATHS]);
            recordGrpcCall(method.path, { modelSpec: spec }, { modelSpec: answered }, 0, seconds());
            callback(null, response);
          },
          (error: unknown) => {
            const status = toGrpcError(error);
            recordGrpcCall(method.path, { modelSpec: spec }, undefined, status.code ?? 2, seconds());
            callback(status);
          },
        );
    };
  }
  server.addService(definition as never, handlers);
}
