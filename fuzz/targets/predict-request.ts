import fc from 'fast-check';
import { status } from '@grpc/grpc-js';
import { ServingError } from '@maas/errors';
import { predictRequest } from '../arbitraries.js';
import { MODEL_INPUTS, serveModels, type ServedModels } from '../models.js';
import type { FuzzProperty, FuzzTarget } from '../target.js';

/** Codes no client input may cause: they would mean a bug on our side. */
export const SERVER_FAULTS = new Set([status.INTERNAL, status.UNKNOWN, status.DATA_LOSS]);

/** Any PredictRequest gets an answer or a ServingError that is the client's fault, from real sessions. */
export const predictRequestTarget: FuzzTarget<ServedModels> = {
  name: 'predict-request',
  setup: serveModels,
  teardown: (served) => served.stop(),
  property: ({ backend }) =>
    fc.asyncProperty(predictRequest(MODEL_INPUTS), async (request) => {
      try {
        await backend.predict(request, {});
      } catch (error) {
        if (!(error instanceof ServingError)) throw new Error(`not a ServingError: ${String(error)}`, { cause: error });
        if (SERVER_FAULTS.has(error.code)) throw new Error(`${status[error.code]}: ${error.message}`, { cause: error });
      }
      return true;
    }) as FuzzProperty,
};
