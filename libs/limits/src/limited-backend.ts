import type { ServingBackend } from '@maas/serving-api';
import { checkExampleInput, checkPredictRequest } from './decoded-check.js';
import type { RequestLimits } from './request-limits.js';

/**
 * The backend with the limits checked on decoded requests before any model work: for front ends
 * that decode themselves (REST parses JSON, whose size was capped in bytes before parsing).
 */
export function limitedBackend(backend: ServingBackend, limits: RequestLimits): ServingBackend {
  return {
    async predict(request, context) {
      checkPredictRequest(request, limits);
      return backend.predict(request, context);
    },
    async classify(request, context) {
      checkExampleInput(request.input, limits);
      return backend.classify(request, context);
    },
    async regress(request, context) {
      checkExampleInput(request.input, limits);
      return backend.regress(request, context);
    },
    async multiInference(request, context) {
      checkExampleInput(request.input, limits);
      return backend.multiInference(request, context);
    },
    getModelMetadata: (request, context) => backend.getModelMetadata(request, context),
    getModelStatus: (request, context) => backend.getModelStatus(request, context),
    reloadConfig: (request, context) => backend.reloadConfig(request, context),
  };
}
