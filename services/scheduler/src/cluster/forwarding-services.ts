import type { Server, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { PredictionServiceService, type ModelSpec } from '@maas/protos';
import { toGrpcError } from '@maas/errors';
import { batchingHintsFrom, metadataText } from '@maas/serving-api';
import { recordGrpcCall } from '@maas/telemetry';
import { peekModelSpec } from './peek-model-spec.js';
import type { Router } from './router.js';

const identity = (bytes: Buffer) => bytes;

/** Where each PredictionService request keeps its ModelSpec (field numbers, outermost first). */
const SPEC_PATHS: Record<keyof typeof PredictionServiceService, number[]> = {
  predict: [1],
  classify: [1],
  regress: [1],
  getModelMetadata: [1],
  multiInference: [1, 1],
};

/** Where each response keeps the ModelSpec of the version that answered (for metrics). */
const RESPONSE_SPEC_PATHS: Record<keyof typeof PredictionServiceService, number[]> = {
  predict: [2],
  classify: [2],
  regress: [2],
  getModelMetadata: [1],
  multiInference: [1, 1],
};

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
          spec = peekModelSpec(call.request, specPath);
          const hints = batchingHintsFrom((name) => metadataText(call.metadata, name));
          return router.forward(method.path, call.request, spec, Number.isFinite(millis) ? millis : undefined, hints);
        })
        .then(
          (response) => {
            const answered = peekModelSpec(response, RESPONSE_SPEC_PATHS[key as keyof typeof RESPONSE_SPEC_PATHS]);
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
