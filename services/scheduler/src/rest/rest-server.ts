import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { status } from '@grpc/grpc-js';
import type { RestCall, RestGuard, RestTls } from '@maas/auth';
import { asServingError, httpStatusFor } from '@maas/errors';
import { batchingHintsFrom, type CallContext, type ServingBackend } from '@maas/serving-api';
import { recordRestCall, traceHttpRequest } from '@maas/telemetry';
import * as handlers from './handlers.js';
import { HttpError, readRequestBody } from './request-body.js';
import { routeRequest, type Route } from './router.js';

/*
 * The REST front end on node:http: seven URL patterns and JSON bodies need no framework, and the
 * plain server lets us count body bytes as they arrive and answer 413 before parsing.
 */

export const DEFAULT_MAX_REST_BODY_BYTES = 64 * 1024 * 1024;

/** TF's --rest_api_timeout_in_ms default: every REST call gets this deadline. */
export const DEFAULT_REST_TIMEOUT_MS = 30_000;

export interface RestServerOptions {
  host: string;
  /** 0 binds a free port. */
  port: number;
  /** Largest request body, before and after gzip decompression; larger ones get 413. */
  maxBodyBytes: number;
  timeoutMs?: number;
  /** Pages outside the TF API answered on the same port, by exact path (GET only): monitoring, the dashboard. */
  pages?: RestPages;
  /** APIs of our own answered on the same port, by path prefix (any method), before TF's routes: e.g. /v1/batch/. */
  mounts?: ReadonlyMap<string, RestPage>;
  /** Authentication, permissions, per-client limits and the audit log (@maas/auth); default: none. */
  guard?: RestGuard;
  /** HTTPS from --ssl_config_file, with new certificates taken by new connections. */
  tls?: RestTls;
}

export type RestPage = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;
export type RestPages = ReadonlyMap<string, RestPage>;

const JSON_TYPE = 'application/json';

function send(response: ServerResponse, status: number, body: string | Buffer, close = false): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  response.writeHead(status, {
    'Content-Type': JSON_TYPE,
    'Content-Length': bytes.length,
    ...(close && { Connection: 'close' }),
  });
  response.end(bytes);
}

/** `{"error": "…"}` with the HTTP status TF gives the error's code (httpStatusFor), or HTTP's own refusal. */
function sendError(response: ServerResponse, error: unknown): void {
  if (error instanceof HttpError) {
    send(response, error.status, JSON.stringify({ error: error.message }), true);
    return;
  }
  const serving = asServingError(error);
  send(response, httpStatusFor(serving.code), JSON.stringify({ error: serving.message }));
}

/** A CORS preflight is accepted when it names an http(s) origin (shared/spec §7.1). */
function isPreflight(request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  return origin !== undefined && /^https?:\/\//i.test(origin);
}

async function answer(backend: ServingBackend, route: Route, request: IncomingMessage, options: RestServerOptions): Promise<string | Buffer> {
  const header = (name: string) => [request.headers[name]].flat()[0];
  const context: CallContext = { deadline: Date.now() + (options.timeoutMs ?? DEFAULT_REST_TIMEOUT_MS), ...batchingHintsFrom(header) };
  switch (route.kind) {
    case 'status':
      return handlers.getStatus(backend, route.spec, context);
    case 'metadata':
      return handlers.getMetadata(backend, route.spec, context);
    case 'predict':
    case 'classify':
    case 'regress':
      return handlers[route.kind](backend, route.spec, () => readRequestBody(request, options.maxBodyBytes), context);
    default:
      throw new Error(`unroutable ${route.kind}`);
  }
}

/** Runs `work` once the guard admits the call, telling the guard how it ended. */
async function guarded<T>(guard: RestGuard | undefined, request: IncomingMessage, call: RestCall, work: () => Promise<T>, outcome: () => number): Promise<T> {
  const done = await guard?.admit(request, call);
  try {
    const result = await work();
    done?.(outcome());
    return result;
  } catch (error) {
    const serving = asServingError(error);
    done?.(serving.code, serving.message);
    throw error;
  }
}

/** Pages and mounts answer for themselves: a refusal is answered here, the outcome read off the response. */
async function guardedPage(options: RestServerOptions, page: RestPage, call: RestCall, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const outcome = () => (response.statusCode < 400 ? status.OK : status.UNKNOWN);
  try {
    await guarded(options.guard, request, call, async () => page(request, response), outcome);
  } catch (error) {
    if (!response.headersSent) sendError(response, error);
  }
}

async function handle(backend: ServingBackend, options: RestServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const method = request.method ?? '';
  const page = method === 'GET' ? options.pages?.get((request.url ?? '/').split('?')[0]!) : undefined;
  if (page) return guardedPage(options, page, { kind: 'page' }, request, response);
  const mount = [...(options.mounts ?? [])].find(([prefix]) => (request.url ?? '/').startsWith(prefix));
  if (mount) return guardedPage(options, mount[1], { kind: 'mount' }, request, response);
  const route = routeRequest(method, request.url ?? '/');
  if (route.kind === 'not-found') {
    response.writeHead(404, { 'Content-Type': 'text/plain' });
    response.end('Not Found');
    return;
  }
  if (route.kind === 'malformed' || (route.kind === 'preflight' && !isPreflight(request))) {
    const message = route.kind === 'malformed' ? route.message : `Malformed request: ${method} ${request.url}`;
    send(response, 400, JSON.stringify({ error: message }));
    return;
  }
  if (route.kind === 'preflight') {
    send(response, 200, '');
    return;
  }
  const started = performance.now();
  try {
    const call = { kind: route.kind, model: route.spec.name };
    const work = () => answer(backend, route, request, options);
    send(response, 200, await traceHttpRequest(`REST ${route.kind}`, request.headers, () => guarded(options.guard, request, call, work, () => status.OK)));
    recordRestCall(route.kind, route.spec, 0, (performance.now() - started) / 1000);
  } catch (error) {
    sendError(response, error);
    recordRestCall(route.kind, route.spec, asServingError(error).code, (performance.now() - started) / 1000);
  }
}

/** The REST listener (TF's --rest_api_port); resolves with the bound port once listening. */
export async function startRestServer(unguarded: ServingBackend, options: RestServerOptions): Promise<{ server: Server; port: number }> {
  const backend = options.guard ? options.guard.wrap(unguarded) : unguarded;
  const serve = (request: IncomingMessage, response: ServerResponse) => {
    handle(backend, options, request, response).catch((error: unknown) => {
      // Only reachable if writing the reply itself failed; the connection is beyond saving.
      if (!response.headersSent) sendError(response, error);
      else response.destroy(error instanceof Error ? error : undefined);
    });
  };
  const tls = options.tls;
  const server: Server = tls ? createTlsServer(tls.options, serve) : createServer(serve);
  tls?.onChange((context) => (server as ReturnType<typeof createTlsServer>).setSecureContext(context));
  // `Expect: 100-continue` (curl sends it for bodies over 1 MB): a body declared too large gets its
  // 413 without being sent at all.
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    if (!(Number(request.headers['content-length']) > options.maxBodyBytes)) response.writeContinue();
    serve(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/** Stops accepting connections and waits for in-flight calls, up to a grace period, then closes the rest. */
export async function stopRestServer(server: Server, graceMs = 5000): Promise<void> {
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
