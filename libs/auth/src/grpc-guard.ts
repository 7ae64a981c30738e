import { ServerInterceptingCall, status, type Metadata, type ServerInterceptor, type ServiceDefinition, type StatusObject } from '@grpc/grpc-js';
import { asServingError, toGrpcError, type ServingError } from '@maas/errors';
import { isScreenedMethod, LIMIT_FLAGS, screenRequestBytes, type InFlightPerClient, type RequestLimits } from '@maas/limits';
import { authorize, isAdministrative, modelsNamed, requirementFor, type Requirement } from './access-rules.js';
import type { AuditLog } from './audit-log.js';
import { ANONYMOUS, type Authenticator, type Principal } from './authenticator.js';
import { ALL_MODELS } from './permissions.js';

/** The checks every call passes before its handler runs. */
export interface CallGuardOptions {
  /** Absent: auth is off and every caller is `anonymous` with every permission. */
  authenticator?: Authenticator;
  limits: RequestLimits;
  /** Requests in flight per client; front doors only (a worker's one client is the scheduler). */
  inFlight?: InFlightPerClient;
  audit?: AuditLog;
}

/** A request refused by the limits while its bytes were screened; the interceptor answers it. */
class RefusedRequest {
  constructor(
    readonly error: ServingError,
    readonly bytes: Uint8Array,
  ) {}
}

/**
 * The service with its request bytes screened against the limits before they are decoded, so a
 * request over a limit is refused before anything proportional to it is allocated.
 */
export function screenService(definition: ServiceDefinition, limits: RequestLimits): ServiceDefinition {
  const screened: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(definition)) {
    if (!isScreenedMethod(method.path)) {
      screened[key] = method;
      continue;
    }
    const decode = method.requestDeserialize;
    screened[key] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          screenRequestBytes(method.path, bytes, limits);
        } catch (error) {
          return new RefusedRequest(asServingError(error), bytes);
        }
        return decode(bytes);
      },
    };
  }
  return screened as ServiceDefinition;
}

/** The status grpc-js sends for a refusal, through the one mapping (toGrpcError). */
function statusOf(error: unknown): StatusObject {
  const { code, details, metadata } = toGrpcError(error);
  return { code: code!, details: details!, metadata: metadata! };
}

/**
 * One server interceptor for every service: authenticates the `authorization` metadata before
 * the request is read, counts the client's requests in flight, authorizes the models the request
 * names (forbidden and unknown models are refused alike, before any lookup), answers requests the
 * limits refused, and writes administrative calls to the audit log with their outcome.
 */
export function guardInterceptor(options: CallGuardOptions): ServerInterceptor {
  return (method, call) => {
    nameMessageLimit(call);
    const requirement = requirementFor(method.path);
    if (requirement.kind === 'public') return new ServerInterceptingCall(call);
    let principal: Principal | undefined;
    let models: string[] | undefined;
    let release: (() => void) | undefined;
    let refused = false;
    let ended = false;
    const end = (code: number, message?: string) => {
      if (ended) return;
      ended = true;
      release?.();
      if (options.audit && isAdministrative(requirement)) {
        options.audit.record({
          principal: principal?.id ?? 'unauthenticated',
          peer: call.getPeer(),
          action: method.path,
          target: requirement.kind === 'all-models' ? [ALL_MODELS] : (models ?? []),
          code,
          message,
        });
      }
    };
    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            admit(options, metadata, call.getConnectionInfo().remoteAddress ?? call.getPeer()).then(
              (admitted) => {
                principal = admitted.principal;
                release = admitted.release;
                pass(metadata);
              },
              refuse,
            );
          },
          onReceiveMessage: (message, pass) => {
            if (refused) return;
            try {
              checkMessage(requirement, principal!, message, (named) => (models = named));
              pass(message);
            } catch (error) {
              refuse(error);
            }
          },
          onReceiveHalfClose: (pass) => {
            if (!refused) pass();
          },
          onCancel: () => end(status.CANCELLED),
        }),
      sendStatus: (sent, pass) => {
        end(sent.code ?? status.UNKNOWN, sent.details);
        pass(sent);
      },
    });
    function refuse(error: unknown): void {
      refused = true;
      intercepting.sendStatus(statusOf(error));
    }
    return intercepting;
  };
}

const MESSAGE_TOO_LARGE = /^(Received|Sent) message (larger than max|that decompresses to a size larger than)/;

/**
 * grpc-js refuses a request over --grpc_max_message_bytes from its frame header, before reading
 * it (and a response over it before sending), but in its own words and straight from the call
 * under the interceptors: that call's sendStatus is wrapped so the refusal names the flag, as
 * every other limit's does.
 */
function nameMessageLimit(call: Parameters<ServerInterceptor>[1]): void {
  const sendStatus = call.sendStatus.bind(call);
  call.sendStatus = (sent) =>
    sendStatus(
      sent.code === status.RESOURCE_EXHAUSTED && MESSAGE_TOO_LARGE.test(sent.details ?? '')
        ? { ...sent, details: `${sent.details} (--${LIMIT_FLAGS.maxMessageBytes})` }
        : sent,
    );
}

/** Authenticates the caller and takes a slot of its requests in flight. */
async function admit(options: CallGuardOptions, metadata: Metadata, address: string): Promise<{ principal: Principal; release?: () => void }> {
  const header = metadata.get('authorization')[0];
  const principal = options.authenticator ? await options.authenticator.authenticate(typeof header === 'string' ? header : undefined) : ANONYMOUS;
  // The cluster's own calls carry everyone's traffic; the limit is for external clients.
  if (!options.inFlight || principal.id === 'service') return { principal };
  return { principal, release: options.inFlight.admit(principal === ANONYMOUS ? address : principal.id) };
}

/** Authorization first (a caller learns nothing about limits of what it may not use), then the limits' refusal. */
function checkMessage(requirement: Requirement, principal: Principal, message: unknown, record: (models: string[] | undefined) => void): void {
  const refusal = message instanceof RefusedRequest ? message : undefined;
  const models = requirement.kind === 'model' ? modelsNamed(refusal?.bytes ?? message, requirement) : undefined;
  record(models);
  authorize(principal, requirement, models);
  if (refusal) throw refusal.error;
}
