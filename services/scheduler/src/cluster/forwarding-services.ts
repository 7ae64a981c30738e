import type { Server, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { PredictionServiceService } from '@maas/protos';
import { toGrpcError } from '@maas/errors';
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
      Promise.resolve()
        .then(() => router.forward(method.path, call.request, peekModelSpec(call.request, specPath), Number.isFinite(millis) ? millis : undefined))
        .then(
          (response) => callback(null, response),
          (error: unknown) => callback(toGrpcError(error)),
        );
    };
  }
  server.addService(definition as never, handlers);
}
