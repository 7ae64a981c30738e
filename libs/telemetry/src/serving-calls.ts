import type { Logger } from './log.js';
import { recordRequest } from './metrics.js';
import { codeName } from './status-codes.js';
import { recordTfRequest } from './tf-serving-metrics.js';

/** Set at MAAS_LOG_LEVEL=debug: one line per served call (names and numbers, never tensors). */
let callLog: Logger | undefined;

export function logServedCalls(log: Logger | undefined): void {
  callLog = log;
}

/** A version as other log lines carry it (a number), absent when none answered. */
const logVersion = (version: string) => (version === '' ? undefined : Number(version));

/** TF Serving counts these gRPC methods in request_count (shared/spec §10). */
const TF_COUNTED_GRPC = new Set(['Predict', 'Classify', 'Regress']);

interface SpecLike {
  name?: string;
  version?: bigint | number;
}

/** The ModelSpec of a TF Serving request or response (MultiInference: its first task or result). */
function specOf(message: unknown): SpecLike | undefined {
  const m = message as { modelSpec?: SpecLike; tasks?: Array<{ modelSpec?: SpecLike }>; results?: Array<{ modelSpec?: SpecLike }> } | null | undefined;
  return m?.modelSpec ?? m?.tasks?.[0]?.modelSpec ?? m?.results?.[0]?.modelSpec;
}

/** `/tensorflow.serving.PredictionService/Predict` -> `Predict`. */
function methodOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * One gRPC call at a front end, from its decoded request and response: our request counter and
 * latency (the version is the one that answered), and TF Serving's request metrics.
 */
export function recordGrpcCall(path: string, request: unknown, response: unknown, code: number, seconds: number): void {
  const method = methodOf(path);
  const model = specOf(request)?.name ?? '';
  const answered = specOf(response)?.version;
  const version = answered === undefined ? '' : String(answered);
  recordRequest({ model, version, method, code, entrypoint: 'grpc', seconds });
  if (TF_COUNTED_GRPC.has(method)) recordTfRequest(model, method, 'GRPC', code, seconds);
  callLog?.debug(`${path.slice(1)} ${codeName(code)} in ${(seconds * 1000).toFixed(1)} ms`, { model, version: logVersion(version), method, status: codeName(code), entrypoint: 'grpc' });
}

/** REST routes as TF Serving method names. */
const REST_METHODS: Record<string, string> = {
  status: 'GetModelStatus',
  metadata: 'GetModelMetadata',
  predict: 'Predict',
  classify: 'Classify',
  regress: 'Regress',
};

/**
 * One REST /v1 call: our counter and latency (labelled with the version the URL names, '' for
 * latest or a label) and TF Serving's (API is the verb of a POST, empty for GETs, as TF has it).
 */
export function recordRestCall(route: string, spec: { name: string; version?: bigint }, code: number, seconds: number): void {
  const method = REST_METHODS[route] ?? route;
  const version = spec.version === undefined ? '' : String(spec.version);
  recordRequest({ model: spec.name, version, method, code, entrypoint: 'rest', seconds });
  callLog?.debug(`REST ${route} ${codeName(code)} in ${(seconds * 1000).toFixed(1)} ms`, { model: spec.name, version: logVersion(version), method, status: codeName(code), entrypoint: 'rest' });
  recordTfRequest(spec.name, route === 'status' || route === 'metadata' ? '' : route, 'REST', code, seconds);
}
