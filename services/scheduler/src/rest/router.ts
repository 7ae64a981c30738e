import type { ModelSpec } from '@maas/protos';
import { INT64_MAX } from './int64.js';

/** What a request URL asks for (shared/spec §7.1). */
export type Route =
  | { kind: 'status'; spec: ModelSpec }
  | { kind: 'metadata'; spec: ModelSpec }
  | { kind: 'predict' | 'classify' | 'regress'; spec: ModelSpec }
  | { kind: 'preflight' }
  /** Under /v1 but no pattern fits; `message` is the error text. */
  | { kind: 'malformed'; message: string }
  /** Not under /v1 at all: TF's plain 404. */
  | { kind: 'not-found' };

// TF's patterns (http_rest_api_handler.cc), matched case-insensitively against the whole path.
const POST_PATTERN = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+)|\/labels\/([^/:]+))?:(classify|regress|predict)$/i;
const GET_PATTERN = /^\/v1\/models(?:\/([^/:]+))?(?:\/versions\/(\d+)|\/labels\/([^/:]+))?(?:\/(metadata))?$/i;
const V1_PATTERN = /^\/v1\//i;


/** ModelSpec from the URL parts; undefined when a part does not decode (a malformed request). */
function specFrom(name: string, version: string | undefined, label: string | undefined): ModelSpec | undefined {
  try {
    const spec: ModelSpec = { name: decodeURIComponent(name), signatureName: '' };
    if (version !== undefined) {
      const number = BigInt(version);
      if (number > INT64_MAX) return undefined;
      spec.version = number;
    }
    if (label !== undefined) spec.versionLabel = decodeURIComponent(label);
    return spec;
  } catch {
    return undefined;
  }
}

/** Routes a request by method and URL (query strings are ignored). */
export function routeRequest(method: string, url: string): Route {
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  if (!V1_PATTERN.test(path)) return { kind: 'not-found' };
  const malformed: Route = { kind: 'malformed', message: `Malformed request: ${method} ${path}` };
  if (method === 'OPTIONS') return { kind: 'preflight' };
  if (method === 'POST') {
    const match = POST_PATTERN.exec(path);
    const spec = match && specFrom(match[1]!, match[2], match[3]);
    if (!match || !spec) return malformed;
    return { kind: match[4]!.toLowerCase() as 'predict' | 'classify' | 'regress', spec };
  }
  if (method === 'GET') {
    const match = GET_PATTERN.exec(path);
    if (!match) return malformed;
    if (match[1] === undefined) return { kind: 'malformed', message: 'Missing model name in request.' };
    const spec = specFrom(match[1], match[2], match[3]);
    if (!spec) return malformed;
    if (match[4] !== undefined) return { kind: 'metadata', spec };
    // GetModelStatus ignores labels: a label URL lists every version (shared/spec §7.1).
    delete spec.versionLabel;
    return { kind: 'status', spec };
  }
  return malformed;
}
