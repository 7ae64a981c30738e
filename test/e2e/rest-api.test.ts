import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  addConstantModel,
  buildOnnxModel,
  identityModel,
  makeTempDir,
  startMaas,
  twoInputTwoOutputModel,
  writeModelVersion,
  type ServeProcess,
} from '@maas/test-support';

/*
 * The REST API (shared/spec §7) against a real `maas serve`, with models built here:
 *   floats     v1  x float [b,3] -> y (identity)
 *   ints       v1  x int64 [b,2] -> y (identity)
 *   words      v1  x string [b] -> y (identity)
 *   blobs      v1  x_bytes string [b] -> y_bytes (identity; *_bytes outputs are base64)
 *   flags      v1  x bool [b,2] -> y (identity)
 *   halves     v1  x float16 [b] -> y (identity; REST cannot convert JSON to half)
 *   pair       v1  a, b float [b,3] -> sum, product
 *   adder      v1, v2  x float [b,2] -> y = x + version; label stable -> 1
 *   labelled   v1  x float [b,2], labels string [b,2] -> scores = x, classes = labels
 *   regressor  v1  x float [b,1] -> outputs = x + 0.5
 */

const MAX_BODY = 256 * 1024;

function identityOf(input: string, output: string, type: 'string', shape: Array<number | string>): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: input, type, shape }],
    outputs: [{ name: output, type, shape }],
    nodes: [{ op: 'Identity', inputs: [input], outputs: [output] }],
  });
}

const labelledModel = () =>
  buildOnnxModel({
    inputs: [
      { name: 'x', type: 'float32', shape: ['batch', 2] },
      { name: 'labels', type: 'string', shape: ['batch', 2] },
    ],
    outputs: [
      { name: 'scores', type: 'float32', shape: ['batch', 2] },
      { name: 'classes', type: 'string', shape: ['batch', 2] },
    ],
    nodes: [
      { op: 'Identity', inputs: ['x'], outputs: ['scores'] },
      { op: 'Identity', inputs: ['labels'], outputs: ['classes'] },
    ],
  });

const regressorModel = () =>
  buildOnnxModel({
    inputs: [{ name: 'x', type: 'float32', shape: ['batch', 1] }],
    outputs: [{ name: 'outputs', type: 'float32', shape: ['batch', 1] }],
    initializers: [{ name: 'half', type: 'float32', dims: [], values: [0.5] }],
    nodes: [{ op: 'Add', inputs: ['x', 'half'], outputs: ['outputs'] }],
  });

interface Reply {
  status: number;
  type: string | null;
  text: string;
}

describe('REST API of maas serve', () => {
  let server: ServeProcess;
  let base: string;
  const root = makeTempDir();

  before(async () => {
    const models: Record<string, Array<[number, Uint8Array]>> = {
      floats: [[1, identityModel('float32', ['batch', 3])]],
      ints: [[1, identityModel('int64', ['batch', 2])]],
      words: [[1, identityModel('string', ['batch'])]],
      blobs: [[1, identityOf('x_bytes', 'y_bytes', 'string', ['batch'])]],
      flags: [[1, identityModel('bool', ['batch', 2])]],
      halves: [[1, identityModel('float16', ['batch'])]],
      pair: [[1, twoInputTwoOutputModel()]],
      adder: [[1, addConstantModel(1, ['batch', 2])], [2, addConstantModel(2, ['batch', 2])]],
      labelled: [[1, labelledModel()]],
      regressor: [[1, regressorModel()]],
    };
    const configs = Object.entries(models).map(([name, versions]) => {
      for (const [version, bytes] of versions) writeModelVersion(join(root, name), version, bytes);
      const extra = name === 'adder' ? "model_version_policy { all {} } version_labels { key: 'stable' value: 1 }" : '';
      return `config { name: '${name}' base_path: '${join(root, name)}' model_platform: 'onnx' ${extra} }`;
    });
    const configPath = join(root, 'models.config');
    writeFileSync(configPath, `model_config_list { ${configs.join('\n')} }`);
    server = await startMaas([
      'serve', '--port=0', '--grpc_host=127.0.0.1', '--rest_api_port=-1', `--rest_api_max_body_bytes=${MAX_BODY}`,
      `--model_config_file=${configPath}`, '--file_system_poll_wait_seconds=0',
    ]);
    assert.ok(server.restPort, 'the ready line names the REST port');
    base = `http://127.0.0.1:${server.restPort}`;
  });

  after(async () => {
    assert.equal(await server?.stop(), 0, 'clean exit on SIGTERM');
  });

  async function send(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
    const response = await fetch(base + path, { method, body, headers });
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  }

  /** POST a JSON body; the reply must be JSON (TF's NaN/Infinity tokens are checked on the raw text). */
  async function post(path: string, body: unknown, headers?: Record<string, string>): Promise<Reply> {
    const reply = await send('POST', path, typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), headers);
    assert.equal(reply.type, 'application/json', `${path}: ${reply.text}`);
    return reply;
  }

  async function ok(path: string, body: unknown): Promise<string> {
    const reply = await post(path, body);
    assert.equal(reply.status, 200, reply.text);
    return reply.text;
  }

  async function fails(method: string, path: string, body: string | Buffer | undefined, status: number, message: RegExp | string): Promise<void> {
    const reply = await send(method, path, body);
    assert.equal(reply.status, status, `${method} ${path} ${String(body).slice(0, 80)}: ${reply.text}`);
    assert.equal(reply.type, 'application/json');
    const error = (JSON.parse(reply.text) as { error: string }).error;
    if (typeof message === 'string') assert.equal(error, message);
    else assert.match(error, message);
  }

  test('GET status: every version, one version, and label URLs (labels are ignored there)', async () => {
    const available = (version: string) => ({ version, state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } });
    const get = async (path: string) => {
      const reply = await send('GET', path);
      assert.deepEqual([reply.status, reply.type], [200, 'application/json'], reply.text);
      return JSON.parse(reply.text) as unknown;
    };
    assert.deepEqual(await get('/v1/models/floats'), { model_version_status: [available('1')] });
    assert.deepEqual(await get('/v1/models/adder'), { model_version_status: [available('2'), available('1')] });
    assert.deepEqual(await get('/v1/models/adder/versions/1'), { model_version_status: [available('1')] });
    assert.deepEqual(await get('/v1/models/adder/labels/stable'), { model_version_status: [available('2'), available('1')] });
  });

  test('GET metadata: TF\'s exact shape, for latest, a version and a label', async () => {
    const reply = await send('GET', '/v1/models/floats/metadata');
    assert.equal(reply.status, 200);
    assert.equal(reply.type, 'application/json');
    const dims = [{ size: '-1', name: '' }, { size: '3', name: '' }];
    const info = (name: string) => ({ dtype: 'DT_FLOAT', tensor_shape: { dim: dims, unknown_rank: false }, name });
    assert.deepEqual(JSON.parse(reply.text), {
      model_spec: { name: 'floats', signature_name: '', version: '1' },
      metadata: {
        signature_def: {
          signature_def: {
            serving_default: { inputs: { x: info('x') }, outputs: { y: info('y') }, method_name: 'tensorflow/serving/predict', defaults: {} },
          },
        },
      },
    });
    const version = async (path: string) => (JSON.parse((await send('GET', path)).text) as { model_spec: { version: string } }).model_spec.version;
    assert.equal(await version('/v1/models/adder/metadata'), '2');
    assert.equal(await version('/v1/models/adder/versions/1/metadata'), '1');
    assert.equal(await version('/v1/models/adder/labels/stable/metadata'), '1');
  });

  test('predict with floats, row and columnar: 3.0, NaN and ±Infinity as TF writes them', async () => {
    const row = await ok('/v1/models/floats:predict', '{"instances": [[1, 2.5, -3], [0.1, NaN, Infinity]]}');
    assert.equal(row, '{"predictions":[[1.0,2.5,-3.0],[0.1,NaN,Infinity]]}');
    const columnar = await ok('/v1/models/floats:predict', '{"signature_name": "serving_default", "inputs": [[-Infinity, 1e-5, 123456.75]]}');
    assert.equal(columnar, '{"outputs":[[-Infinity,1e-05,123456.75]]}');
  });

  test('floats as clients print them (17 digits, exponents, next to float midpoints) reach the model as JSON.parse rounded to float', async () => {
    const texts: string[] = [];
    for (let i = 0; i < 600; i++) {
      const a = Math.fround(Math.sin(i + 1) * 10 ** ((i % 9) - 4));
      const midpoint = a + (Math.fround(a * (1 + 2 ** -23)) - a) / 2;
      texts.push([String(a), midpoint.toPrecision(16 + (i % 4)), a.toExponential(i % 12), String(i - 300)][i % 4]!);
    }
    const rows = Array.from({ length: texts.length / 3 }, (_, r) => `[${texts.slice(3 * r, 3 * r + 3).join(r % 2 ? ', ' : ',')}]`);
    const reply = JSON.parse(await ok('/v1/models/floats:predict', `{"instances": [${rows.join(',\n')}]}`)) as { predictions: number[][] };
    const got = reply.predictions.flat();
    assert.equal(got.length, texts.length);
    texts.forEach((text, i) => assert.equal(Math.fround(got[i]!), Math.fround(JSON.parse(text) as number), text));
  });

  test('predict with int64 keeps values beyond 2^53 exact both ways', async () => {
    const reply = await ok('/v1/models/ints:predict', '{"inputs": [[9007199254740993, -9223372036854775808], [9223372036854775807, 0]]}');
    assert.equal(reply, '{"outputs":[[9007199254740993,-9223372036854775808],[9223372036854775807,0]]}');
    const rows = await ok('/v1/models/ints:predict', { instances: [[1, -2]] });
    assert.equal(rows, '{"predictions":[[1,-2]]}');
  });

  test('predict with strings: text as JSON strings, *_bytes tensors as {"b64": …} both ways', async () => {
    assert.equal(await ok('/v1/models/words:predict', { instances: ['héllo', 'say "hi"\n', ''] }), '{"predictions":["héllo","say \\"hi\\"\\n",""]}');
    // Arbitrary bytes without NUL: the worker hands strings to onnxruntime as text, which ends them at a NUL byte.
    const bytes = Buffer.from('bïnary\u0001\u007f', 'utf8').toString('base64');
    assert.equal(await ok('/v1/models/blobs:predict', { instances: [{ b64: bytes }, { b64: '' }] }), `{"predictions":[{"b64":"${bytes}"},{"b64":""}]}`);
    assert.equal(await ok('/v1/models/blobs:predict', { inputs: { x_bytes: [{ b64: bytes }] } }), `{"outputs":[{"b64":"${bytes}"}]}`);
  });

  test('predict with bools', async () => {
    assert.equal(await ok('/v1/models/flags:predict', { instances: [[true, false], [false, true]] }), '{"predictions":[[true,false],[false,true]]}');
  });

  test('two inputs, two outputs: objects per row, or one object of columns', async () => {
    const row = JSON.parse(await ok('/v1/models/pair:predict', { instances: [{ a: [1, 2, 3], b: [4, 5, 6] }, { a: [0.5, 0, -1], b: [2, 2, 2] }] }));
    assert.deepEqual(row, {
      predictions: [
        { sum: [5, 7, 9], product: [4, 10, 18] },
        { sum: [2.5, 2, 1], product: [1, 0, -2] },
      ],
    });
    const columnar = JSON.parse(await ok('/v1/models/pair:predict', { inputs: { b: [[1, 1, 1]], a: [[2, 3, 4]], ignored: 'x' } }));
    assert.deepEqual(columnar, { outputs: { sum: [[3, 4, 5]], product: [[2, 3, 4]] } });
  });

  test('version and label URLs pick the servable; gzip bodies are accepted', async () => {
    const body = { instances: [[10, 20]] };
    assert.equal(await ok('/v1/models/adder:predict', body), '{"predictions":[[12.0,22.0]]}');
    assert.equal(await ok('/v1/models/adder/versions/1:predict', body), '{"predictions":[[11.0,21.0]]}');
    assert.equal(await ok('/v1/models/adder/labels/stable:predict', body), '{"predictions":[[11.0,21.0]]}');
    const zipped = await post('/v1/models/adder:predict', gzipSync(JSON.stringify(body)), { 'Content-Encoding': 'gzip' });
    assert.deepEqual([zipped.status, zipped.text], [200, '{"predictions":[[12.0,22.0]]}']);
  });

  test('classify and regress: JSON examples in, results out', async () => {
    // 1.0 and 0.0 must stay decimals in the text: JSON integers are int64 features.
    const classify = await post('/v1/models/labelled:classify', '{"examples": [{"x": [0.25, 0.75], "labels": ["cat", "dog"]}, {"x": [1.0, 0.0], "labels": ["a", "b"]}]}');
    assert.deepEqual([classify.status, classify.text], [200, '{"results":[[["cat",0.25],["dog",0.75]],[["a",1.0],["b",0.0]]]}']);
    const regress = await post('/v1/models/regressor:regress', '{"context": {"x": 1.0}, "examples": [{}]}');
    assert.equal(regress.status, 200, regress.text);
    assert.equal(regress.text, '{"results":[1.5]}');
    const regressMany = await post('/v1/models/regressor:regress', '{"examples": [{"x": 1e0}, {"x": -2.5}]}');
    assert.equal(regressMany.text, '{"results":[1.5,-2.0]}');
    await fails('POST', '/v1/models/regressor:regress', '{"instances": [1]}', 400, /When method is classify, key 'examples' is expected and was not found$/);
    // A model without classify heads: the backend's status, as JSON.
    await fails('POST', '/v1/models/floats:classify', JSON.stringify({ examples: [{ x: [1, 2, 3] }] }), 400, /scores|classes/);
  });

  test('every error case answers JSON with TF\'s status, and the server keeps serving', async () => {
    const cases: Array<[string, string, string | Buffer | undefined, number, RegExp | string]> = [
      ['POST', '/v1/models/nope:predict', '{"instances": [1]}', 404, 'Servable not found for request: Latest(nope)'],
      ['POST', '/v1/models/adder/versions/9:predict', '{"instances": [[1, 2]]}', 404, 'Servable not found for request: Specific(adder, 9)'],
      ['POST', '/v1/models/adder/labels/canary:predict', '{"instances": [[1, 2]]}', 400, /Unrecognized servable version label: canary/],
      ['GET', '/v1/models/nope', undefined, 404, 'Could not find any versions of model nope'],
      ['GET', '/v1/models/adder/versions/9', undefined, 404, 'Could not find version 9 of model adder'],
      ['GET', '/v1/models/nope/metadata', undefined, 404, 'Servable not found for request: Latest(nope)'],
      ['GET', '/v1/models', undefined, 400, 'Missing model name in request.'],
      ['GET', '/v1/models/floats/versions/one', undefined, 400, 'Malformed request: GET /v1/models/floats/versions/one'],
      ['DELETE', '/v1/models/floats', undefined, 400, 'Malformed request: DELETE /v1/models/floats'],
      ['POST', '/v1/models/floats:explain', '{}', 400, 'Malformed request: POST /v1/models/floats:explain'],
      ['POST', '/v1/models/floats:predict', '', 400, 'JSON Parse error: The document is empty'],
      ['POST', '/v1/models/floats:predict', '{"instances": [[1, 2, 3]', 400, /^JSON Parse error: Missing a comma or '\]' after an array element\. at offset: \d+$/],
      ['POST', '/v1/models/floats:predict', '[1, 2, 3]', 400, 'JSON Value: [1, 2, 3] Is not object'],
      ['POST', '/v1/models/floats:predict', '{"signature_name": "serving_default"}', 400, "Missing 'inputs' or 'instances' key"],
      ['POST', '/v1/models/floats:predict', '{"instances": [[1, 2, 3]], "inputs": [[1, 2, 3]]}', 400, /expecting only one of 'inputs' or 'instances' keys to exist/],
      ['POST', '/v1/models/floats:predict', '{"signature_name": "classify_x", "inputs": [[1, 2, 3]]}', 400, 'Serving signature name: "classify_x" not found in signature def'],
      ['POST', '/v1/models/floats:predict', '{"instances": [[1, 2, 3], [4, 5]]}', 400, "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: 3 but got: 2"],
      ['POST', '/v1/models/floats:predict', '{"inputs": [[1, 2, 3], [4, 5]]}', 400, 'Encountered list at unexpected size: 2 at level: 1 expected size: 3'],
      ['POST', '/v1/models/floats:predict', '{"inputs": [[1, "2", 3]]}', 400, 'JSON Value: "2" Type: String is not of expected type: float'],
      ['POST', '/v1/models/ints:predict', '{"inputs": [[1, 2.5]]}', 400, 'JSON Value: 2.5 Type: Number is not of expected type: int64'],
      ['POST', '/v1/models/flags:predict', '{"inputs": [[1, 0]]}', 400, 'JSON Value: 1 Type: Number is not of expected type: bool'],
      ['POST', '/v1/models/floats:predict', '{"inputs": [[1, 2]]}', 400, /'x'.*\[1,2\].*\[\?,3\]/],
      ['POST', '/v1/models/floats:predict', '{"inputs": [1, 2, 3]}', 400, /'x'/],
      ['POST', '/v1/models/pair:predict', '{"inputs": {"a": [[1, 2, 3]]}}', 400, "Missing named input: b in 'inputs' object."],
      ['POST', '/v1/models/pair:predict', '{"instances": [{"a": [1, 2, 3]}]}', 400, /keys must be equal to: a,b$/],
      ['POST', '/v1/models/halves:predict', '{"inputs": [1.5]}', 501, 'Conversion of JSON Value: 1.5 to type: half'],
      ['POST', '/v1/models/floats:predict', `{"inputs": [${'1,'.repeat(MAX_BODY / 2)}1]}`, 413, /exceeds the limit of 262144 bytes/],
    ];
    for (const [method, path, body, status, message] of cases) await fails(method, path, body, status, message);
    const outside = await send('GET', '/v2/models/floats');
    assert.equal(outside.status, 404);
    assert.equal(await ok('/v1/models/floats:predict', { inputs: [[7, 8, 9]] }), '{"outputs":[[7.0,8.0,9.0]]}');
  });

  test('concurrent requests are answered independently', async () => {
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 4 === 3 ? send('POST', '/v1/models/floats:predict', '{"inputs": [[1, 2]]}') : post('/v1/models/floats:predict', { instances: [[i, i, i]] }))),
    );
    replies.forEach((reply, i) => {
      if (i % 4 === 3) assert.equal(reply.status, 400);
      else assert.equal(reply.text, `{"predictions":[[${i}.0,${i}.0,${i}.0]]}`);
    });
  });
});
