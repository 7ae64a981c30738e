import type { IncomingMessage } from 'node:http';
import { asServingError } from '@maas/errors';
import { limitedBackend } from '@maas/limits';
import type { ServingBackend } from '@maas/serving-api';
import { authorize, isAdministrative, type Requirement } from './access-rules.js';
import { ANONYMOUS, type Principal } from './authenticator.js';
import type { CallGuardOptions } from './grpc-guard.js';
import { ALL_MODELS } from './permissions.js';

/** A REST call as the guard sees it: the route's kind and the model its URL names. */
export interface RestCall {
  kind: string;
  model?: string;
}

/** The REST front end's checks: the same principals, permissions, limits and audit log as gRPC. */
export interface RestGuard {
  /** Admits the call or throws a ServingError (401, 403, 429); `done` gets the call's gRPC code when it ends. */
  admit(request: IncomingMessage, call: RestCall): Promise<(code: number, message?: string) => void>;
  /** The backend with the request limits checked on decoded requests. */
  wrap(backend: ServingBackend): ServingBackend;
}

const REST_PERMISSIONS: Record<string, 'predict' | 'read_metadata'> = {
  predict: 'predict',
  classify: 'predict',
  regress: 'predict',
  status: 'read_metadata',
  metadata: 'read_metadata',
};

/**
 * TF's routes need their permission on the URL's model; pages (monitoring, the dashboard) show
 * every model, so they need read_metadata on all; anything else mounted (the batch API) administer.
 */
function requirementOf(call: RestCall): Requirement {
  if (call.kind === 'page') return { kind: 'all-models', permission: 'read_metadata' };
  const permission = REST_PERMISSIONS[call.kind];
  if (!permission || call.model === undefined) return { kind: 'all-models', permission: 'administer' };
  return { kind: 'model', permission, fields: [], keys: [] };
}

export function restGuard(options: CallGuardOptions): RestGuard {
  return {
    async admit(request, call) {
      const requirement = requirementOf(call);
      const target = requirement.kind === 'model' ? [call.model!] : [ALL_MODELS];
      let principal: Principal | undefined;
      let release: (() => void) | undefined;
      const done = (code: number, message?: string) => {
        release?.();
        if (!options.audit || !isAdministrative(requirement)) return;
        const peer = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
        options.audit.record({ principal: principal?.id ?? 'unauthenticated', peer, action: `${request.method} ${request.url}`, target, code, message });
      };
      try {
        principal = options.authenticator ? await options.authenticator.authenticate(request.headers.authorization) : ANONYMOUS;
        if (options.inFlight && principal.id !== 'service') {
          release = options.inFlight.admit(principal === ANONYMOUS ? (request.socket.remoteAddress ?? 'unknown') : principal.id);
        }
        authorize(principal, requirement, target);
      } catch (error) {
        const serving = asServingError(error);
        done(serving.code, serving.message);
        throw serving;
      }
      return done;
    },
    wrap: (backend) => limitedBackend(backend, options.limits),
  };
}

