import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import {
  ClassificationRequest,
  DataType,
  GetModelMetadataRequest,
  GetModelStatusRequest,
  MultiInferenceRequest,
  PredictRequest,
  PredictResponse,
  RegressionRequest,
  ReloadConfigRequest,
} from '@maas/protos';
import { addConstantModel, makeTempDir, startMaas, writeModelVersion, type ServeProcess } from '@maas/test-support';
import type { AuditEntry } from '@maas/auth';
import { JWT_SECRET, KEYS, bearer, writeAuthConfig } from './fixtures.js';
import { RawClient, codeName, type RawOutcome } from './raw-grpc.js';

/*
 * `maas serve` with auth on: two models (adder, other); `reader` may predict with and read adder
 * only, `ops` administers everything. Batching holds each request ~300 ms, so requests in flight
 * can be counted.
 */

const PREDICTION = '/tensorflow.serving.PredictionService';
const MODEL = '/tensorflow.serving.ModelService';

const predictBytes = (model: string, rows = 1, columns = 1) =>
  PredictRequest.encode(
    PredictRequest.fromPartial({
      modelSpec: { name: model },
      inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: BigInt(rows) }, { size: BigInt(columns) }] }, floatVal: [1] } },
    }),
  ).finish();

/** One request of every TF Serving method, for `model`. */
function everyMethod(model: string): Array<[string, Uint8Array]> {
  const spec = { name: model };
  return [
    [`${PREDICTION}/Predict`, predictBytes(model)],
    [`${PREDICTION}/Classify`, ClassificationRequest.encode(ClassificationRequest.fromPartial({ modelSpec: spec })).finish()],
    [`${PREDICTION}/Regress`, RegressionRequest.encode(RegressionRequest.fromPartial({ modelSpec: spec })).finish()],
    [`${PREDICTION}/MultiInference`, MultiInferenceRequest.encode(MultiInferenceRequest.fromPartial({ tasks: [{ modelSpec: spec, methodName: 'tensorflow/serving/regress' }] })).finish()],
    [`${PREDICTION}/GetModelMetadata`, GetModelMetadataRequest.encode(GetModelMetadataRequest.fromPartial({ modelSpec: spec, metadataField: ['signature_def'] })).finish()],
    [`${MODEL}/GetModelStatus`, GetModelStatusRequest.encode(GetModelStatusRequest.fromPartial({ modelSpec: spec })).finish()],
    [`${MODEL}/HandleReloadConfigRequest`, ReloadConfigRequest.encode(ReloadConfigRequest.fromPartial({})).finish()],
  ];
}

const failed = (outcome: RawOutcome) => (outcome.ok ? 'OK' : codeName(outcome.code));
const details = (outcome: RawOutcome) => (outcome.ok ? '' : outcome.details);
const jsonOf = async (response: Response) => (await response.json()) as { error: string };

describe('auth and limits on maas serve', () => {
  const dir = makeTempDir('maas-auth-');
  const auditFile = join(dir, 'audit.jsonl');
  let server: ServeProcess;
  let client: RawClient;
  let rest: string;
  let configText = '';

  before(async () => {
    for (const name of ['adder', 'other']) writeModelVersion(join(dir, name), 1, addConstantModel(1));
    configText = `model_config_list {\n${['adder', 'other'].map((n) => `  config { name: "${n}" base_path: "${join(dir, n)}" model_platform: "onnx" }`).join('\n')}\n}\n`;
    writeFileSync(join(dir, 'models.config'), configText);
    writeFileSync(join(dir, 'batching.config'), 'max_batch_size { value: 64 }\nbatch_timeout_micros { value: 300000 }\n');
    server = await startMaas([
      'serve', '--port=0', '--grpc_host=127.0.0.1', '--rest_api_port=-1',
      `--model_config_file=${join(dir, 'models.config')}`,
      '--enable_batching', `--batching_parameters_file=${join(dir, 'batching.config')}`,
      `--auth_config_file=${writeAuthConfig(dir, 'adder')}`, `--audit_log_file=${auditFile}`,
      '--max_in_flight_per_client=2', '--max_request_elements=1000', '--rest_api_max_rows=10',
    ]);
    client = new RawClient(`127.0.0.1:${server.grpcPort}`);
    rest = `http://127.0.0.1:${server.restPort}`;
  });

  after(async () => {
    client?.close();
    await server?.stop();
  });

  test('without valid credentials every method is UNAUTHENTICATED and REST answers 401; health stays open', async () => {
    for (const authorization of [undefined, 'Bearer not-a-key', `Basic ${Buffer.from(`reader:${KEYS.reader}`).toString('base64')}`, KEYS.reader]) {
      for (const [path, bytes] of everyMethod('adder')) {
        const outcome = await client.call(path, bytes, { authorization });
        assert.equal(failed(outcome), 'UNAUTHENTICATED', `${path} with ${authorization}`);
      }
    }
    for (const [method, path] of [['GET', '/v1/models/adder'], ['GET', '/v1/models/adder/metadata'], ['POST', '/v1/models/adder:predict'], ['POST', '/v1/models/adder:classify'], ['POST', '/v1/models/adder:regress']] as const) {
      const response = await fetch(`${rest}${path}`, { method, body: method === 'POST' ? '{"instances": [[1]]}' : undefined });
      assert.equal(response.status, 401, `${method} ${path}`);
      assert.match((await jsonOf(response)).error, /Missing credentials/);
    }
    const health = await client.call('/grpc.health.v1.Health/Check', new Uint8Array());
    assert.ok(health.ok, 'health needs no credentials');
  });

  test('a model the caller may not use is refused exactly like a model that does not exist', async () => {
    const allowed = await client.call(`${PREDICTION}/Predict`, predictBytes('adder'), { authorization: bearer(KEYS.reader) });
    assert.ok(allowed.ok, details(allowed));
    const y = PredictResponse.decode(allowed.bytes).outputs.y!;
    assert.deepEqual(Array.from(new Float32Array(new Uint8Array(y.tensorContent).buffer)), [2]);
    const other = everyMethod('other');
    const missing = everyMethod('missing');
    // Every method that names a model (the reload names none).
    for (let i = 0; i < 6; i++) {
      const path = other[i]![0];
      const forbidden = await client.call(path, other[i]![1], { authorization: bearer(KEYS.reader) });
      const unknown = await client.call(path, missing[i]![1], { authorization: bearer(KEYS.reader) });
      assert.equal(failed(forbidden), 'PERMISSION_DENIED', path);
      assert.equal(failed(unknown), 'PERMISSION_DENIED', path);
      assert.equal(details(forbidden).replace("'other'", "'<m>'"), details(unknown).replace("'missing'", "'<m>'"), path);
    }
    const restForbidden = await fetch(`${rest}/v1/models/other`, { headers: { authorization: bearer(KEYS.reader) } });
    const restUnknown = await fetch(`${rest}/v1/models/missing`, { headers: { authorization: bearer(KEYS.reader) } });
    assert.deepEqual([restForbidden.status, restUnknown.status], [403, 403]);
    assert.equal((await jsonOf(restForbidden)).error.replace("'other'", "'<m>'"), (await jsonOf(restUnknown)).error.replace("'missing'", "'<m>'"));
    // Someone allowed everywhere learns what exists.
    const privileged = await client.call(`${PREDICTION}/Predict`, predictBytes('missing'), { authorization: bearer(KEYS.ops) });
    assert.equal(failed(privileged), 'NOT_FOUND');
    const ok = await fetch(`${rest}/v1/models/adder:predict`, { method: 'POST', body: '{"instances": [[1]]}', headers: { authorization: bearer(KEYS.reader) } });
    assert.deepEqual(await jsonOf(ok), { predictions: [[2]] });
  });

  test('the admin API needs administer, and the audit log records who, what, when and the outcome', async () => {
    const reload = ReloadConfigRequest.encode(ReloadConfigRequest.fromPartial({ config: { modelConfigList: { config: ['adder', 'other'].map((name) => ({ name, basePath: join(dir, name), modelPlatform: 'onnx' })) } } })).finish();
    const started = new Date();
    const denied = await client.call(`${MODEL}/HandleReloadConfigRequest`, reload, { authorization: bearer(KEYS.reader) });
    assert.equal(failed(denied), 'PERMISSION_DENIED');
    assert.match(details(denied), /reader may not administer the cluster/);
    const allowed = await client.call(`${MODEL}/HandleReloadConfigRequest`, reload, { authorization: bearer(KEYS.ops), deadlineMs: 30_000 });
    assert.ok(allowed.ok, details(allowed));
    const read = () => readFileSync(auditFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as AuditEntry);
    // The server appends through a stream: the last line may land just after the answer.
    const end = Date.now() + 5000;
    while (!read().some((e) => e.principal === 'ops') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    const entries = read();
    const reloads = entries.filter((e) => e.action === `${MODEL}/HandleReloadConfigRequest` && new Date(e.time) >= new Date(started.getTime() - 1000));
    assert.deepEqual(
      reloads.filter((e) => e.principal !== 'unauthenticated').map((e) => [e.principal, e.outcome, e.code, e.target]),
      [['reader', 'denied', 'PERMISSION_DENIED', ['*']], ['ops', 'ok', 'OK', ['*']]],
    );
    assert.ok(reloads.every((e) => /^\d{4}-\d\d-\d\dT/.test(e.time) && e.peer.startsWith('127.0.0.1')));
    assert.ok(!entries.some((e) => e.action.endsWith('/Predict')), 'only administrative calls are audited');
  });

  test('JWT bearer tokens: their roles claim decides; expired or foreign tokens are UNAUTHENTICATED', async () => {
    const sign = (claims: Record<string, unknown>, exp = '5m', secret = JWT_SECRET) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer('maas-tests').setAudience('maas').setSubject('ci').setExpirationTime(exp).sign(new TextEncoder().encode(secret));
    const predictor = bearer(await sign({ maas_roles: { adder: ['predict'] } }));
    assert.ok((await client.call(`${PREDICTION}/Predict`, predictBytes('adder'), { authorization: predictor })).ok);
    const status = await client.call(`${MODEL}/GetModelStatus`, everyMethod('adder')[5]![1], { authorization: predictor });
    assert.equal(failed(status), 'PERMISSION_DENIED');
    assert.match(details(status), /jwt:ci may not read model 'adder'/);
    // The same token in the REST header.
    const restPredict = await fetch(`${rest}/v1/models/adder:predict`, { method: 'POST', body: '{"instances": [[1]]}', headers: { authorization: predictor } });
    assert.deepEqual(await jsonOf(restPredict), { predictions: [[2]] });
    const restStatus = await fetch(`${rest}/v1/models/adder`, { headers: { authorization: predictor } });
    assert.equal(restStatus.status, 403);
    assert.match((await jsonOf(restStatus)).error, /jwt:ci may not read model 'adder'/);
    for (const token of [await sign({ maas_roles: { '*': ['administer'] } }, '-1m'), await sign({ maas_roles: { '*': ['administer'] } }, '5m', 'another-secret-0123456789abcdefghij')]) {
      assert.equal(failed(await client.call(`${PREDICTION}/Predict`, predictBytes('adder'), { authorization: bearer(token) })), 'UNAUTHENTICATED');
      const restRefused = await fetch(`${rest}/v1/models/adder:predict`, { method: 'POST', body: '{"instances": [[1]]}', headers: { authorization: bearer(token) } });
      assert.equal(restRefused.status, 401);
    }
  });

  test('limits: elements per request, rows per REST call and requests in flight per client are refused naming the flag', async () => {
    const big = await client.call(`${PREDICTION}/Predict`, predictBytes('adder', 1, 1001), { authorization: bearer(KEYS.reader) });
    assert.equal(failed(big), 'RESOURCE_EXHAUSTED');
    assert.match(details(big), /1001 tensor elements, more than the limit of 1000 \(--max_request_elements\)/);
    const rows = await fetch(`${rest}/v1/models/adder:predict`, { method: 'POST', body: JSON.stringify({ instances: Array.from({ length: 11 }, () => [1]) }), headers: { authorization: bearer(KEYS.reader) } });
    assert.equal(rows.status, 429);
    assert.match((await jsonOf(rows)).error, /11 rows, more than the limit of 10 \(--rest_api_max_rows\)/);
    // Batching holds each request ~300 ms: a third concurrent request of the same client is refused.
    const outcomes = await Promise.all([1, 2, 3].map(() => client.call(`${PREDICTION}/Predict`, predictBytes('adder'), { authorization: bearer(KEYS.reader) })));
    assert.deepEqual(outcomes.map(failed).sort(), ['OK', 'OK', 'RESOURCE_EXHAUSTED']);
    assert.match(outcomes.map(details).join(''), /Client reader has 2 requests in flight, more than the limit of 2 \(--max_in_flight_per_client\)/);
    // Another client is counted on its own.
    const [mine, theirs] = await Promise.all([
      client.call(`${PREDICTION}/Predict`, predictBytes('adder'), { authorization: bearer(KEYS.reader) }),
      client.call(`${PREDICTION}/Predict`, predictBytes('adder'), { authorization: bearer(KEYS.ops) }),
    ]);
    assert.ok(mine.ok && theirs.ok);
  });
});
