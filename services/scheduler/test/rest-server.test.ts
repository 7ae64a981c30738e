import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request as httpRequest, type Server } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { status } from '@grpc/grpc-js';
import {
  Any,
  Code,
  DataType,
  ModelVersionStatus_State,
  SignatureDefMap,
  type GetModelMetadataRequest,
  type PredictRequest,
  type PredictResponse,
} from '@maas/protos';
import { ServingError } from '@maas/errors';
import type { CallContext, ServingBackend } from '@maas/serving-api';
import { DEFAULT_MAX_REST_BODY_BYTES, startRestServer, stopRestServer } from '../src/rest/index.js';

/** A backend that echoes predict inputs as outputs and fails on demand, recording each call. */
class FakeBackend implements ServingBackend {
  calls: Array<{ method: string; request: unknown; context: CallContext }> = [];
  /** Thrown by the next predict/status call when set. */
  failWith: unknown;

  private record(method: string, request: unknown, context: CallContext): void {
    this.calls.push({ method, request, context });
    if (this.failWith !== undefined && method !== 'getModelMetadata') {
      const error = this.failWith;
      this.failWith = undefined;
      throw error;
    }
  }

  async predict(request: PredictRequest, context: CallContext): Promise<PredictResponse> {
    this.record('predict', request, context);
    return { outputs: { y: request.inputs.x! }, modelSpec: request.modelSpec };
  }
  async getModelMetadata(request: GetModelMetadataRequest, context: CallContext) {
    this.record('getModelMetadata', request, context);
    if (request.modelSpec?.name !== 'm') throw new ServingError(status.NOT_FOUND, `Servable not found for request: Latest(${request.modelSpec?.name})`);
    const map = SignatureDefMap.fromPartial({
      signatureDef: { serving_default: { inputs: { x: { name: 'x', dtype: DataType.DT_FLOAT } }, outputs: { y: { name: 'y', dtype: DataType.DT_FLOAT } }, methodName: 'p' } },
    });
    return { modelSpec: { name: 'm', version: 1n, signatureName: '' }, metadata: { signature_def: Any.fromPartial({ value: SignatureDefMap.encode(map).finish() }) } };
  }
  async getModelStatus(request: unknown, context: CallContext) {
    this.record('getModelStatus', request, context);
    return { modelVersionStatus: [{ version: 1n, state: ModelVersionStatus_State.AVAILABLE, status: { errorCode: Code.OK, errorMessage: '' } }] };
  }
  async classify(request: unknown, context: CallContext): Promise<never> {
    this.record('classify', request, context);
    throw new ServingError(status.UNIMPLEMENTED, 'not here');
  }
  async regress(request: unknown, context: CallContext) {
    this.record('regress', request, context);
    return { result: { regressions: [{ value: 1.5 }] }, modelSpec: undefined };
  }
  async multiInference(): Promise<never> {
    throw new Error('unused');
  }
  async reloadConfig(): Promise<never> {
    throw new Error('unused');
  }
}

interface Reply {
  status: number;
  type: string | undefined;
  connection: string | undefined;
  body: string;
}

/** One request over node:http; `chunks` are written one by one (chunked encoding unless a length is given). */
function call(port: number, method: string, path: string, options: { body?: string | Buffer; chunks?: Buffer[]; headers?: Record<string, string | number> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: options.headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, type: res.headers['content-type'], connection: res.headers.connection, body: Buffer.concat(parts).toString() }),
      );
      res.on('error', reject);
    });
    // A server that answers early and closes may cut our upload short; the reply is what counts.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    if (options.chunks) {
      for (const chunk of options.chunks) req.write(chunk);
      req.end();
    } else {
      req.end(options.body);
    }
  });
}

const LIMIT = 4096;

describe('REST server on node:http', () => {
  const backend = new FakeBackend();
  let server: Server;
  let port: number;

  before(async () => {
    ({ server, port } = await startRestServer(backend, { host: '127.0.0.1', port: 0, maxBodyBytes: LIMIT }));
  });
  after(async () => {
    await stopRestServer(server);
  });

  test('the default body limit is 64 MiB', () => {
    assert.equal(DEFAULT_MAX_REST_BODY_BYTES, 64 * 1024 * 1024);
  });

  test('predict round trip through the backend, with a 30 s deadline', async () => {
    backend.calls = [];
    const before = Date.now();
    const reply = await call(port, 'POST', '/v1/models/m/versions/1:predict', { body: '{"instances": [[1, 2.5], [NaN, 4]]}' });
    assert.equal(reply.status, 200, reply.body);
    assert.equal(reply.type, 'application/json');
    assert.equal(reply.body, '{"predictions":[[1.0,2.5],[NaN,4.0]]}');
    assert.deepEqual(backend.calls.map((c) => c.method), ['getModelMetadata', 'predict']);
    const predict = backend.calls[1]!;
    assert.deepEqual((predict.request as PredictRequest).modelSpec, { name: 'm', version: 1n, signatureName: '' });
    const deadline = predict.context.deadline!;
    assert.ok(deadline >= before + 30000 && deadline <= Date.now() + 30000, `deadline ${deadline - before} ms after the call`);
  });

  test('status, metadata and regress answer JSON', async () => {
    const status = await call(port, 'GET', '/v1/models/m');
    assert.equal(status.status, 200);
    assert.equal(status.type, 'application/json');
    assert.equal(JSON.parse(status.body).model_version_status[0].state, 'AVAILABLE');
    const metadata = await call(port, 'GET', '/v1/models/m/metadata');
    assert.equal(JSON.parse(metadata.body).metadata.signature_def.signature_def.serving_default.method_name, 'p');
    const regress = await call(port, 'POST', '/v1/models/m:regress', { body: '{"examples": [{"x": 1}]}' });
    assert.deepEqual([regress.status, regress.body], [200, '{"results":[1.5]}']);
  });

  test('backend errors become {"error": …} with TF\'s HTTP status for their code', async () => {
    const cases: Array<[unknown, number, string]> = [
      [new ServingError(status.NOT_FOUND, 'Servable not found for request: Latest(m)'), 404, 'Servable not found for request: Latest(m)'],
      [new ServingError(status.FAILED_PRECONDITION, 'bad'), 400, 'bad'],
      [new ServingError(status.RESOURCE_EXHAUSTED, 'full'), 429, 'full'],
      [new ServingError(status.DEADLINE_EXCEEDED, 'late'), 504, 'late'],
      [new ServingError(status.UNAVAILABLE, 'busy'), 503, 'busy'],
      [new ServingError(status.CANCELLED, 'gone'), 499, 'gone'],
      [new Error('bug'), 500, 'bug'],
    ];
    for (const [error, code, message] of cases) {
      backend.failWith = error;
      const reply = await call(port, 'GET', '/v1/models/m');
      assert.deepEqual([reply.status, reply.type, JSON.parse(reply.body)], [code, 'application/json', { error: message }]);
    }
    const unimplemented = await call(port, 'POST', '/v1/models/m:classify', { body: '{"examples": [{"x": 1}]}' });
    assert.deepEqual([unimplemented.status, JSON.parse(unimplemented.body)], [501, { error: 'not here' }]);
    const unknown = await call(port, 'POST', '/v1/models/nope:predict', { body: '{"instances": [1]}' });
    assert.deepEqual([unknown.status, JSON.parse(unknown.body)], [404, { error: 'Servable not found for request: Latest(nope)' }]);
  });

  test('malformed URLs and JSON are 400 with a JSON body; outside /v1 is a plain 404', async () => {
    const cases: Array<[string, string, string | undefined, number, string]> = [
      ['GET', '/v1/models', undefined, 400, 'Missing model name in request.'],
      ['PUT', '/v1/models/m', undefined, 400, 'Malformed request: PUT /v1/models/m'],
      ['POST', '/v1/models/m:explain', '{}', 400, 'Malformed request: POST /v1/models/m:explain'],
      ['POST', '/v1/models/m:predict', '', 400, 'JSON Parse error: The document is empty'],
      ['POST', '/v1/models/m:predict', '{"instances": [1,', 400, "JSON Parse error: Missing a comma or ']' after an array element. at offset: 17"],
      ['OPTIONS', '/v1/models/m', undefined, 400, 'Malformed request: OPTIONS /v1/models/m'],
    ];
    for (const [method, path, body, code, message] of cases) {
      const reply = await call(port, method, path, { body });
      assert.deepEqual([reply.status, reply.type, JSON.parse(reply.body)], [code, 'application/json', { error: message }], `${method} ${path}`);
    }
    const outside = await call(port, 'GET', '/metrics');
    assert.equal(outside.status, 404);
    assert.notEqual(outside.type, 'application/json');
    const preflight = await call(port, 'OPTIONS', '/v1/models/m:predict', { headers: { Origin: 'https://app.example' } });
    assert.deepEqual([preflight.status, preflight.type], [200, 'application/json']);
  });

  test('a body over the limit is refused with 413 before it is parsed: by Content-Length, then by counting', async () => {
    backend.calls = [];
    const big = Buffer.alloc(LIMIT + 1, 0x20);
    const declared = await call(port, 'POST', '/v1/models/m:predict', { body: big });
    assert.equal(declared.status, 413);
    assert.equal(declared.type, 'application/json');
    assert.match(JSON.parse(declared.body).error, /Request body of 4097 bytes exceeds the limit of 4096 bytes/);
    assert.equal(declared.connection, 'close');
    // Chunked: no Content-Length, so the bytes are counted as they arrive.
    const streamed = await call(port, 'POST', '/v1/models/m:predict', { chunks: [Buffer.alloc(3000, 0x20), Buffer.alloc(3000, 0x20)] });
    assert.equal(streamed.status, 413);
    assert.match(JSON.parse(streamed.body).error, /Request body exceeds the limit of 4096 bytes/);
    assert.ok(!backend.calls.some((c) => c.method === 'predict'), 'nothing reached predict');
    // Exactly at the limit is fine.
    const padded = `{"instances": [1]}${' '.repeat(LIMIT - 18)}`;
    assert.equal((await call(port, 'POST', '/v1/models/m:predict', { body: padded })).status, 200);
  });

  test('a body arriving in pieces reads the same with a Content-Length and without (chunked), joined into one buffer', async () => {
    const body = '{"inputs": [[1.5, 25.25], [3, -4e2]]}';
    const cuts = [0, 1, 17, 18, 24, body.length - 2, body.length];
    const send = (headers: Record<string, number>) =>
      new Promise<Reply>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/v1/models/m:predict', headers }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], connection: res.headers.connection, body: Buffer.concat(parts).toString() }));
        });
        req.on('error', reject);
        // Pieces apart in time, so they reach the server as separate chunks (a number is split between two).
        const write = (i: number) => {
          if (i === cuts.length - 1) return req.end();
          req.write(body.slice(cuts[i], cuts[i + 1]));
          setTimeout(() => write(i + 1), 5);
        };
        write(0);
      });
    const framings: Array<Record<string, number>> = [{ 'Content-Length': Buffer.byteLength(body) }, {}];
    for (const headers of framings) {
      const reply = await send(headers);
      assert.deepEqual([reply.status, reply.body], [200, '{"outputs":[[1.5,25.25],[3.0,-400.0]]}'], JSON.stringify(headers));
    }
  });

  test('Expect: 100-continue: a body declared too large is refused before it is sent, others are invited', async () => {
    const expect = (length: number, body: string) =>
      new Promise<{ continued: boolean; status: number; text: string }>((resolve, reject) => {
        let continued = false;
        const req = httpRequest({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/v1/models/m:predict',
          headers: { 'Content-Length': length, Expect: '100-continue' },
        });
        req.on('continue', () => {
          continued = true;
          req.end(body);
        });
        req.on('response', (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => resolve({ continued, status: res.statusCode!, text: Buffer.concat(parts).toString() }));
        });
        req.on('error', reject);
        req.flushHeaders();
      });
    const refused = await expect(LIMIT + 1, '');
    assert.deepEqual([refused.continued, refused.status], [false, 413]);
    const body = '{"inputs": [5]}';
    const invited = await expect(body.length, body);
    assert.deepEqual(invited, { continued: true, status: 200, text: '{"outputs":[5.0]}' });
  });

  test('gzip bodies are decompressed, within the same limit; broken gzip is 400', async () => {
    const gzip = { 'Content-Encoding': 'gzip' };
    const ok = await call(port, 'POST', '/v1/models/m:predict', { body: gzipSync('{"inputs": [[3, 4]]}'), headers: gzip });
    assert.deepEqual([ok.status, ok.body], [200, '{"outputs":[[3.0,4.0]]}']);
    // 100 KB of spaces compress to ~100 bytes: the limit is on what comes out.
    const bomb = await call(port, 'POST', '/v1/models/m:predict', { body: gzipSync(`{"inputs": [1]}${' '.repeat(100_000)}`), headers: gzip });
    assert.equal(bomb.status, 413);
    assert.match(JSON.parse(bomb.body).error, /Decompressed request body exceeds the limit of 4096 bytes/);
    const broken = await call(port, 'POST', '/v1/models/m:predict', { body: 'not gzip', headers: gzip });
    assert.equal(broken.status, 400);
    assert.match(JSON.parse(broken.body).error, /^Failed to decompress gzip request body/);
  });

  test('a client that goes away mid-body reaches no predict', async () => {
    backend.calls = [];
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /v1/models/m:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"instances": [1');
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(backend.calls.filter((c) => c.method === 'predict'), []);
  });

  test('the server keeps serving after all of the above', async () => {
    const reply = await call(port, 'POST', '/v1/models/m:predict', { body: '{"inputs": 2}' });
    assert.deepEqual([reply.status, reply.body], [200, '{"outputs":2.0}']);
  });
});

test('the timeout option sets the deadline; stopRestServer closes idle keep-alive connections', async () => {
  const backend = new FakeBackend();
  const { server, port } = await startRestServer(backend, { host: '127.0.0.1', port: 0, maxBodyBytes: 1024, timeoutMs: 50 });
  const before = Date.now();
  await call(port, 'GET', '/v1/models/m');
  const deadline = backend.calls[0]!.context.deadline!;
  assert.ok(deadline >= before + 50 && deadline <= Date.now() + 50);
  await fetch(`http://127.0.0.1:${port}/v1/models/m`).then((r) => r.text());
  const started = Date.now();
  await stopRestServer(server);
  assert.ok(Date.now() - started < 2000, 'stop did not wait for the idle connection');
});

test('a port that is taken is reported, not ignored', async () => {
  const backend = new FakeBackend();
  const first = await startRestServer(backend, { host: '127.0.0.1', port: 0, maxBodyBytes: 1024 });
  await assert.rejects(startRestServer(backend, { host: '127.0.0.1', port: first.port, maxBodyBytes: 1024 }), /EADDRINUSE/);
  await stopRestServer(first.server);
});
