import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import {
  buildOnnxModel,
  callUnary,
  loadTfServingClients,
  makeTempDir,
  startMaas,
  writeModelVersion,
  type OnnxElementType,
  type ServeProcess,
  type UnaryError,
} from '@maas/test-support';

/** One Identity per dtype the issue names, so one server covers them all. */
const DTYPES: Array<[alias: string, type: OnnxElementType, tf: string]> = [
  ['f32', 'float32', 'DT_FLOAT'],
  ['f64', 'float64', 'DT_DOUBLE'],
  ['i64', 'int64', 'DT_INT64'],
  ['str', 'string', 'DT_STRING'],
  ['flag', 'bool', 'DT_BOOL'],
  ['half', 'float16', 'DT_HALF'],
  ['u8', 'uint8', 'DT_UINT8'],
];

function allDtypesModel(): Uint8Array {
  return buildOnnxModel({
    inputs: DTYPES.map(([alias, type]) => ({ name: alias, type, shape: ['batch', 2] })),
    outputs: DTYPES.map(([alias, type]) => ({ name: `${alias}_out`, type, shape: ['batch', 2] })),
    nodes: DTYPES.map(([alias]) => ({ op: 'Identity', inputs: [alias], outputs: [`${alias}_out`] })),
  });
}

const shape = (...dims: number[]) => ({ dim: dims.map((size) => ({ size: String(size) })) });

function allInputs() {
  return {
    f32: { dtype: 'DT_FLOAT', tensor_shape: shape(1, 2), tensor_content: Buffer.from(Float32Array.from([1.5, -2.25]).buffer) },
    f64: { dtype: 'DT_DOUBLE', tensor_shape: shape(1, 2), double_val: [Math.PI, -1e300] },
    // One value fills the shape (repeat-last rule).
    i64: { dtype: 'DT_INT64', tensor_shape: shape(1, 2), int64_val: ['9007199254740993'] },
    str: { dtype: 'DT_STRING', tensor_shape: shape(1, 2), string_val: [Buffer.from('héllo'), Buffer.from('')] },
    flag: { dtype: 'DT_BOOL', tensor_shape: shape(1, 2), bool_val: [true, false] },
    half: { dtype: 'DT_HALF', tensor_shape: shape(1, 2), half_val: [0x3c00, 0xc000] },
    u8: { dtype: 'DT_UINT8', tensor_shape: shape(1, 2), tensor_content: Buffer.from([0, 255]) },
  };
}

type Tensor = { dtype: string; tensor_shape: { dim: Array<{ size: string }> }; tensor_content: Buffer; string_val: Buffer[] };

/** Reads a response tensor the way tf.make_ndarray would: tensor_content when present. */
function valuesOf(tensor: Tensor): unknown[] {
  const c = tensor.tensor_content;
  const view = (Ctor: { new (b: ArrayBuffer): ArrayLike<unknown> }) => Array.from(new Ctor(new Uint8Array(c).buffer));
  switch (tensor.dtype) {
    case 'DT_FLOAT': return view(Float32Array);
    case 'DT_DOUBLE': return view(Float64Array);
    case 'DT_INT64': return view(BigInt64Array).map(String);
    case 'DT_HALF': return view(Uint16Array);
    case 'DT_UINT8': return view(Uint8Array);
    case 'DT_BOOL': return view(Uint8Array).map(Boolean);
    case 'DT_STRING': return tensor.string_val.map((b) => b.toString('utf8'));
    default: throw new Error(`unexpected dtype ${tensor.dtype}`);
  }
}

function withoutF32(inputs: ReturnType<typeof allInputs>) {
  const { f32: _dropped, ...rest } = inputs;
  return rest;
}

function grpcCode(error: unknown): number {
  return (error as UnaryError).code;
}

async function rejects(promise: Promise<unknown>, code: grpc.status, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: UnaryError) => {
    assert.equal(error.code, code, `code for "${error.details}"`);
    assert.match(error.details, message);
    return true;
  });
}

describe('maas serve over gRPC', () => {
  let server: ServeProcess;
  let clients: ReturnType<typeof loadTfServingClients>;
  const basePath = join(makeTempDir(), 'all_dtypes');

  before(async () => {
    writeModelVersion(basePath, 1, allDtypesModel());
    server = await startMaas(['serve', '--port=0', '--grpc_host=127.0.0.1', '--model_name=all_dtypes', `--model_base_path=${basePath}`, '--file_system_poll_wait_seconds=0']);
    clients = loadTfServingClients(`127.0.0.1:${server.grpcPort}`);
  });

  after(async () => {
    clients?.close();
    assert.equal(await server?.stop(), 0, 'clean exit on SIGTERM');
  });

  const predict = (request: object, options?: { deadlineMs?: number }) =>
    callUnary<{ outputs: Record<string, Tensor>; model_spec: { name: string; version: { value: string }; signature_name: string } }>(
      clients.prediction, 'Predict', request, options);

  test('Predict round-trips float, double, int64, string, bool, half and uint8', async () => {
    const response = await predict({ model_spec: { name: 'all_dtypes' }, inputs: allInputs() });
    const { name, version, signature_name } = response.model_spec;
    assert.deepEqual({ name, version, signature_name }, { name: 'all_dtypes', version: { value: '1' }, signature_name: 'serving_default' });
    const out = response.outputs;
    assert.deepEqual(valuesOf(out.f32_out!), [1.5, -2.25]);
    assert.deepEqual(valuesOf(out.f64_out!), [Math.PI, -1e300]);
    assert.deepEqual(valuesOf(out.i64_out!), ['9007199254740993', '9007199254740993']);
    assert.deepEqual(valuesOf(out.str_out!), ['héllo', '']);
    assert.deepEqual(valuesOf(out.flag_out!), [true, false]);
    assert.deepEqual(valuesOf(out.half_out!), [0x3c00, 0xc000]);
    assert.deepEqual(valuesOf(out.u8_out!), [0, 255]);
    for (const tensor of Object.values(out)) assert.deepEqual(tensor.tensor_shape.dim.map((d) => d.size), ['1', '2']);
  });

  test('output_filter returns only the named outputs', async () => {
    const response = await predict({ model_spec: { name: 'all_dtypes' }, inputs: allInputs(), output_filter: ['u8_out', 'f32_out'] });
    assert.deepEqual(Object.keys(response.outputs).sort(), ['f32_out', 'u8_out']);
  });

  test('GetModelMetadata returns the signature as a packed SignatureDefMap', async () => {
    const response = await callUnary<{ model_spec: { name: string; version: { value: string } }; metadata: Record<string, { type_url: string; value: Buffer }> }>(
      clients.prediction, 'GetModelMetadata', { model_spec: { name: 'all_dtypes' }, metadata_field: ['signature_def'] });
    assert.equal(response.model_spec.version.value, '1');
    const packed = response.metadata.signature_def!;
    assert.equal(packed.type_url, 'type.googleapis.com/tensorflow.serving.SignatureDefMap');
    const root = new protobuf.Root();
    // google/protobuf/* come bundled with protobufjs; ours live under proto/.
    root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : join(import.meta.dirname, '../../proto', target));
    root.loadSync('tensorflow_serving/apis/get_model_metadata.proto', { keepCase: true });
    const type = root.lookupType('tensorflow.serving.SignatureDefMap');
    const map = type.toObject(type.decode(packed.value), { enums: String, longs: String }) as {
      signature_def: Record<string, { inputs: Record<string, { name: string; dtype: string; tensor_shape: { dim: Array<{ size: string }> } }>; outputs: Record<string, unknown>; method_name: string }>;
    };
    const signature = map.signature_def.serving_default!;
    assert.equal(signature.method_name, 'tensorflow/serving/predict');
    for (const [alias, , tf] of DTYPES) {
      const info = signature.inputs[alias]!;
      assert.equal(info.dtype, tf, alias);
      assert.deepEqual(info.tensor_shape.dim.map((d) => d.size), ['-1', '2']);
    }
    assert.equal(Object.keys(signature.outputs).length, DTYPES.length);
  });

  test('GetModelStatus lists the version as AVAILABLE with an OK status', async () => {
    const response = await callUnary<{ model_version_status: Array<{ version: string; state: string; status: { error_code: string; error_message: string } }> }>(
      clients.model, 'GetModelStatus', { model_spec: { name: 'all_dtypes' } });
    assert.deepEqual(response.model_version_status, [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }]);
  });

  test('every malformed request gets its TF Serving status, and the server serves the next request', async (t) => {
    const inputs = allInputs();
    const cases: Array<[string, () => Promise<unknown>, grpc.status, RegExp]> = [
      ['unknown model', () => predict({ model_spec: { name: 'nope' }, inputs }), grpc.status.NOT_FOUND, /^Servable not found for request: Latest\(nope\)$/],
      ['unknown version', () => predict({ model_spec: { name: 'all_dtypes', version: { value: '7' } }, inputs }), grpc.status.NOT_FOUND, /^Servable not found for request: Specific\(all_dtypes, 7\)$/],
      ['unknown label', () => predict({ model_spec: { name: 'all_dtypes', version_label: 'canary' }, inputs }), grpc.status.INVALID_ARGUMENT, /Unrecognized servable version label: canary/],
      ['missing model_spec', () => predict({ inputs }), grpc.status.INVALID_ARGUMENT, /^Missing ModelSpec$/],
      ['empty name', () => predict({ model_spec: { name: '' }, inputs }), grpc.status.INVALID_ARGUMENT, /ModelSpec has no name specified/],
      ['unknown signature', () => predict({ model_spec: { name: 'all_dtypes', signature_name: 'classify_x' }, inputs }), grpc.status.FAILED_PRECONDITION, /Serving signature key "classify_x" not found/],
      ['missing input', () => predict({ model_spec: { name: 'all_dtypes' }, inputs: withoutF32(inputs) }), grpc.status.INVALID_ARGUMENT, /^input size does not match signature: 6!=7 for inputs \{f64, flag, half, i64, str, u8\} and signature inputs \{f32, f64, flag, half, i64, str, u8\}\. Sent extra: \{\}\. Missing but required: \{f32\}\.$/],
      ['extra input', () => predict({ model_spec: { name: 'all_dtypes' }, inputs: { ...inputs, zzz: inputs.u8 } }), grpc.status.INVALID_ARGUMENT, /for inputs \{f32, f64, flag, half, i64, str, u8, zzz\} and signature inputs \{f32, f64, flag, half, i64, str, u8\}\. Sent extra: \{zzz\}\. Missing but required: \{\}/],
      ['wrong dtype', () => predict({ model_spec: { name: 'all_dtypes' }, inputs: { ...inputs, f32: { ...inputs.flag } } }), grpc.status.INVALID_ARGUMENT, /f32.*float.*bool/],
      ['wrong rank', () => predict({ model_spec: { name: 'all_dtypes' }, inputs: { ...inputs, u8: { dtype: 'DT_UINT8', tensor_shape: shape(2), tensor_content: Buffer.from([1, 2]) } } }), grpc.status.INVALID_ARGUMENT, /u8/],
      ['wrong fixed dim', () => predict({ model_spec: { name: 'all_dtypes' }, inputs: { ...inputs, u8: { dtype: 'DT_UINT8', tensor_shape: shape(1, 3), tensor_content: Buffer.from([1, 2, 3]) } } }), grpc.status.INVALID_ARGUMENT, /u8/],
      ['content length', () => predict({ model_spec: { name: 'all_dtypes' }, inputs: { ...inputs, f32: { dtype: 'DT_FLOAT', tensor_shape: shape(1, 2), tensor_content: Buffer.alloc(7) } } }), grpc.status.INVALID_ARGUMENT, /f32/],
      ['negative dim', () => predict({ model_spec: { name: 'all_dtypes' }, inputs: { ...inputs, f32: { dtype: 'DT_FLOAT', tensor_shape: shape(-1, 2), float_val: [1] } } }), grpc.status.INVALID_ARGUMENT, /f32/],
      ['unknown output_filter', () => predict({ model_spec: { name: 'all_dtypes' }, inputs, output_filter: ['nope'] }), grpc.status.INVALID_ARGUMENT, /output tensor alias not found in signature: nope/],
      ['duplicate output_filter', () => predict({ model_spec: { name: 'all_dtypes' }, inputs, output_filter: ['u8_out', 'u8_out'] }), grpc.status.INVALID_ARGUMENT, /duplicate output tensor alias: u8_out/],
      ['metadata without field', () => callUnary(clients.prediction, 'GetModelMetadata', { model_spec: { name: 'all_dtypes' } }), grpc.status.INVALID_ARGUMENT, /must specify at least one metadata_field/],
      ['metadata unknown field', () => callUnary(clients.prediction, 'GetModelMetadata', { model_spec: { name: 'all_dtypes' }, metadata_field: ['graph'] }), grpc.status.INVALID_ARGUMENT, /Metadata field graph is not supported/],
      ['metadata unknown model', () => callUnary(clients.prediction, 'GetModelMetadata', { model_spec: { name: 'nope' }, metadata_field: ['signature_def'] }), grpc.status.NOT_FOUND, /Servable not found for request: Latest\(nope\)/],
      ['status unknown model', () => callUnary(clients.model, 'GetModelStatus', { model_spec: { name: 'nope' } }), grpc.status.NOT_FOUND, /Could not find any versions of model nope/],
      ['status unknown version', () => callUnary(clients.model, 'GetModelStatus', { model_spec: { name: 'all_dtypes', version: { value: '9' } } }), grpc.status.NOT_FOUND, /Could not find version 9 of model all_dtypes/],
    ];
    for (const [name, call, code, message] of cases) {
      await t.test(name, async () => {
        await rejects(call(), code, message);
        // The bad request cost nothing: the next good one is answered as ever.
        const response = await predict({ model_spec: { name: 'all_dtypes' }, inputs });
        assert.deepEqual(valuesOf(response.outputs.u8_out!), [0, 255]);
      });
    }
  });

  test('bytes that are not a PredictRequest get INVALID_ARGUMENT naming the method', async () => {
    const raw = new grpc.Client(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
    const error = await new Promise<grpc.ServiceError>((resolve) => {
      raw.makeUnaryRequest('/tensorflow.serving.PredictionService/Predict', (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0x0a, 0xff, 0xff, 0xff]), (err) => resolve(err!));
    });
    raw.close();
    assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
    assert.match(error.details, /Predict.*not a valid protobuf/);
  });

  test('messages larger than 4 MiB pass both ways', async () => {
    const count = 3 * 1024 * 1024; // 12 MiB of float32 each way
    const values = new Float32Array(count).map((_, i) => i % 1000);
    const big = { dtype: 'DT_FLOAT', tensor_shape: shape(count / 2, 2), tensor_content: Buffer.from(values.buffer) };
    const response = await predict({ model_spec: { name: 'all_dtypes' }, inputs: { ...allInputs(), f32: big }, output_filter: ['f32_out'] });
    const out = response.outputs.f32_out!;
    assert.equal(out.tensor_content.length, count * 4);
    assert.ok(Buffer.from(values.buffer).equals(out.tensor_content));
  });

  test('client deadlines are honoured', async () => {
    const error = await predict({ model_spec: { name: 'all_dtypes' }, inputs: allInputs() }, { deadlineMs: 1 }).catch((e: unknown) => e);
    assert.equal(grpcCode(error), grpc.status.DEADLINE_EXCEEDED);
  });
});
