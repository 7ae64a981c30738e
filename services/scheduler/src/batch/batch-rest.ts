import type { IncomingMessage, ServerResponse } from 'node:http';
import { asServingError, httpStatusFor } from '@maas/errors';
import { HttpError, readRequestBody } from '../rest/request-body.js';
import type { BatchService } from './batch-service.js';
import { jobJson, submitRequestFrom } from './job-json.js';

/*
 * The BatchJobs API on the REST port:
 *   POST /v1/batch/jobs                      submit (JSON body, see job-json.ts)
 *   GET  /v1/batch/jobs[?limit=N]            list, newest first
 *   GET  /v1/batch/jobs/{id}                 status and progress
 *   POST /v1/batch/jobs/{id}:cancel          cancel
 *   GET  /v1/batch/jobs/{id}/results[?offset=&limit=]   a page of result lines
 */

export const BATCH_REST_PREFIX = '/v1/batch/';

const JOB = /^\/v1\/batch\/jobs\/([^/:]+)$/;
const CANCEL = /^\/v1\/batch\/jobs\/([^/:]+):cancel$/;
const RESULTS = /^\/v1\/batch\/jobs\/([^/:]+)\/results$/;

function send(response: ServerResponse, status: number, body: string, close = false): void {
  const bytes = Buffer.from(body, 'utf8');
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': bytes.length, ...(close && { Connection: 'close' }) });
  response.end(bytes);
}

/** A query parameter as a non-negative integer (0 when absent). */
function intParam(query: URLSearchParams, name: string): number {
  const value = query.get(name);
  if (value === null) return 0;
  if (!/^\d+$/.test(value)) throw new HttpError(400, `query parameter ${name} must be a non-negative integer`);
  return Number(value);
}

async function answer(service: BatchService, request: IncomingMessage, maxBodyBytes: number): Promise<string | undefined> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const path = url.pathname;
  const method = request.method ?? '';
  let match: RegExpExecArray | null;
  if (path === '/v1/batch/jobs' && method === 'POST') {
    return JSON.stringify(jobJson(await service.submit(submitRequestFrom(await readRequestBody(request, maxBodyBytes)))));
  }
  if (path === '/v1/batch/jobs' && method === 'GET') {
    const { jobs } = await service.list({ limit: intParam(url.searchParams, 'limit') });
    return JSON.stringify({ jobs: jobs.map(jobJson) });
  }
  if ((match = JOB.exec(path)) && method === 'GET') return JSON.stringify(jobJson(await service.get({ id: decodeURIComponent(match[1]!) })));
  if ((match = CANCEL.exec(path)) && method === 'POST') return JSON.stringify(jobJson(await service.cancel({ id: decodeURIComponent(match[1]!) })));
  if ((match = RESULTS.exec(path)) && method === 'GET') {
    const page = await service.results({ id: decodeURIComponent(match[1]!), offset: BigInt(intParam(url.searchParams, 'offset')), limit: intParam(url.searchParams, 'limit') });
    // Each line is a JSON object already: the page is spliced in as is.
    return `{"results":[${page.lines.join(',')}],"partial":${page.partial},"next_offset":${page.nextOffset},"end":${page.end}}`;
  }
  return undefined;
}

/** Answers a request under BATCH_REST_PREFIX; errors as `{"error": …}` with TF's HTTP status for their code. */
export async function handleBatchRest(service: BatchService, request: IncomingMessage, response: ServerResponse, maxBodyBytes: number): Promise<void> {
  try {
    const body = await answer(service, request, maxBodyBytes);
    if (body === undefined) send(response, 404, JSON.stringify({ error: `no batch API at ${request.method} ${request.url}` }));
    else send(response, 200, body);
  } catch (error) {
    // HTTP's own refusals (413 with the body left unread) end the connection, as the TF routes do.
    if (error instanceof HttpError) return send(response, error.status, JSON.stringify({ error: error.message }), true);
    const serving = asServingError(error);
    send(response, httpStatusFor(serving.code), JSON.stringify({ error: serving.message }));
  }
}
