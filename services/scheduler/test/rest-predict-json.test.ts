import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { DataType, type SignatureDef, type TensorProto } from '@maas/protos';
import { ServingError } from '@maas/errors';
import { decodeTensor } from '@maas/tensor-codec';
import { predictFromJson } from '../src/rest/predict-json.js';

function signature(inputs: Record<string, DataType>): SignatureDef {
  return {
    inputs: Object.fromEntries(Object.entries(inputs).map(([alias, dtype]) => [alias, { name: alias, dtype }])),
    outputs: {},
    methodName: 'tensorflow/serving/predict',
    defaults: {},
  };
}

const SIGNATURES: Record<string, SignatureDef> = {
  serving_default: signature({ x: DataType.DT_FLOAT }),
  pair: signature({ a: DataType.DT_INT64, b: DataType.DT_STRING }),
  ints: signature({ x: DataType.DT_INT32 }),
  nothing: signature({}),
};

const predict = (json: string, signatures = SIGNATURES) => predictFromJson(Buffer.from(json), signatures);

function tensor(proto: TensorProto | undefined): { shape: number[]; values: unknown[] } {
  assert.ok(proto, 'tensor present');
  const decoded = decodeTensor(proto, { alias: 'x' });
  const values = Array.from(decoded.data as ArrayLike<unknown>);
  return { shape: [...decoded.dims], values };
}

function assertFails(json: string, code: status, message: string | RegExp): void {
  assert.throws(() => predict(json), (error: unknown) => {
    assert.ok(error instanceof ServingError, String(error));
    assert.equal(error.code, code, error.message);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  }, json);
}

test('row format: instances are stacked along a new batch dimension', () => {
  const result = predict('{"instances": [[1, 2], [3, 4], [5, 6]]}');
  assert.equal(result.format, 'row');
  assert.equal(result.signatureName, '');
  assert.deepEqual(tensor(result.inputs.x), { shape: [3, 2], values: [1, 2, 3, 4, 5, 6] });
  assert.deepEqual(tensor(predict('{"instances": [7, 8]}').inputs.x), { shape: [2], values: [7, 8] });
});

test('a signature shape sizes the buffer for one row, and neither a wrong nor an impossible shape changes the result', () => {
  const shaped = (dims: number[]): Record<string, SignatureDef> => {
    const signatures = { serving_default: signature({ x: DataType.DT_FLOAT }) };
    const dim = dims.map((size) => ({ size: BigInt(size), name: '' }));
    signatures.serving_default.inputs.x!.tensorShape = { dim, unknownRank: false };
    return signatures;
  };
  const json = '{"instances": [[1, 2], [3, 4], [5, 6]]}';
  for (const dims of [[-1, 2], [-1, 5], [-1, 0], [-1, -1], [-1, 1e12], []]) {
    assert.deepEqual(tensor(predict(json, shaped(dims)).inputs.x), { shape: [3, 2], values: [1, 2, 3, 4, 5, 6] }, `shape [${dims.join(',')}]`);
  }
});

test('row format with named inputs: each instance is an object naming every input', () => {
  const result = predict('{"signature_name": "pair", "instances": [{"a": [1, 2], "b": "x"}, {"b": {"b64": "AP8="}, "a": [3, 4]}]}');
  assert.equal(result.signatureName, 'pair');
  assert.deepEqual(tensor(result.inputs.a), { shape: [2, 2], values: [1n, 2n, 3n, 4n] });
  assert.deepEqual(result.inputs.b?.tensorShape?.dim.map((d) => d.size), [2n]);
  assert.deepEqual(result.inputs.b?.stringVal.map((s) => [...s]), [[0x78], [0, 255]]);
});

test('a single-input signature also takes objects naming that input', () => {
  assert.deepEqual(tensor(predict('{"instances": [{"x": [1, 2]}, {"x": [3, 4]}]}').inputs.x), { shape: [2, 2], values: [1, 2, 3, 4] });
});

test('columnar format: a bare value for one input, an object for several; extra keys are ignored', () => {
  const one = predict('{"inputs": [[1.5, 2.5]]}');
  assert.equal(one.format, 'columnar');
  assert.deepEqual(tensor(one.inputs.x), { shape: [1, 2], values: [1.5, 2.5] });
  assert.deepEqual(tensor(predict('{"inputs": 3}').inputs.x), { shape: [], values: [3] });
  const named = predict('{"inputs": {"b": ["p", "q", "r"], "zzz": {"whatever": [1, "two"]}, "a": 5}, "signature_name": "pair"}');
  assert.deepEqual(tensor(named.inputs.a), { shape: [], values: [5n] });
  assert.deepEqual(tensor(named.inputs.b), { shape: [3], values: ['p', 'q', 'r'] });
  assert.deepEqual(Object.keys(named.inputs).sort(), ['a', 'b']);
  // Columnar inputs need not share a batch dimension.
  const mixed = predict('{"signature_name": "pair", "inputs": {"a": [[1, 2, 3]], "b": ["s", "t"]}}');
  assert.deepEqual(tensor(mixed.inputs.a).shape, [1, 3]);
  assert.deepEqual(tensor(mixed.inputs.b).shape, [2]);
});

test('a signature_name after the tensors re-reads them with that signature', () => {
  const result = predict('{"inputs": [1, 2], "signature_name": "ints"}');
  assert.equal(result.signatureName, 'ints');
  assert.equal(result.inputs.x?.dtype, DataType.DT_INT32);
  assert.deepEqual(tensor(result.inputs.x).values, [1, 2]);
  // Read first as float (serving_default), 1.5 is fine; as int32 it is not.
  assertFails('{"inputs": [1.5], "signature_name": "ints"}', status.INVALID_ARGUMENT, 'JSON Value: 1.5 Type: Number is not of expected type: int32');
  // With no serving_default the tensors are located first and read once the name is known.
  const noDefault = { ints: SIGNATURES.ints! };
  assert.deepEqual(tensor(predictFromJson(Buffer.from('{"instances": [[4]], "signature_name": "ints"}'), noDefault).inputs.x).values, [4]);
});

test('top-level errors: not an object, both or neither key, bad signature_name', () => {
  assertFails('', status.INVALID_ARGUMENT, 'JSON Parse error: The document is empty');
  assertFails('[1]', status.INVALID_ARGUMENT, 'JSON Value: [1] Is not object');
  assertFails('{"signature_name": 3, "inputs": [1]}', status.INVALID_ARGUMENT, `JSON Value: {"signature_name": 3, "inputs": [1]} not formatted correctly. 'signature_name' key must be a string value.`);
  assertFails('{"instances": [1], "inputs": [1]}', status.INVALID_ARGUMENT, /^JSON Value: \{"instances": \[1\], "inputs": \[1\]\} Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist $/);
  assertFails('{"signature_name": ""}', status.INVALID_ARGUMENT, "Missing 'inputs' or 'instances' key");
  assertFails('{"signature_name": "nope", "inputs": [1]}', status.INVALID_ARGUMENT, 'Serving signature name: "nope" not found in signature def');
  assertFails('{"signature_name": "nothing", "inputs": [1]}', status.INVALID_ARGUMENT, 'Failed to get input map for signature: nothing');
  assertFails('{"inputs": [1], "extra": [1, 2}', status.INVALID_ARGUMENT, /^JSON Parse error: Missing a comma or '\]'/);
});

test('long request text in messages is cut', () => {
  const long = `{"instances": [${'1,'.repeat(500)}1], "inputs": [1]}`;
  assert.throws(() => predict(long), (error: Error) => error.message.length < 400 && error.message.includes('...'));
});

test('row format errors name the element, in TF\'s words', () => {
  const cases: Array<[string, string | RegExp]> = [
    ['{"instances": 5}', /^JSON Value: .* Excepting 'instances' to be an list\/array$/],
    ['{"instances": []}', /^JSON Value: .* No values in 'instances' array$/],
    ['{"signature_name": "pair", "instances": [[1], [2]]}', 'instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map'],
    ['{"instances": [{"x": [1]}, [2]]}', 'Expecting object but got list at item 1 of input list'],
    ['{"instances": [[1], {"x": [2]}]}', 'Expecting value/list but got object at item 1 of input list'],
    ['{"instances": [[1, 2], [3]]}', "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: 2 but got: 1"],
    ['{"instances": [[1, 2], [[3], [4]]]}', "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [2] but got: [2,1]"],
    ['{"instances": [[1, 2], [3, "x"]]}', `Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: "x" Type: String is not of expected type: float`],
    ['{"signature_name": "pair", "instances": [{"a": 1, "b": "x", "c": 2}]}', "Failed to process element: 0 key: c of 'instances' list. Error: INVALID_ARGUMENT: JSON object: does not have named input: c"],
    ['{"signature_name": "pair", "instances": [{"a": 1}]}', `Failed to process element: 0 of 'instances' list. JSON object: {"a": 1} keys must be equal to: a,b`],
    ['{"signature_name": "pair", "instances": [{"a": 1, "b": "x"}, {"a": [1], "b": "y"}]}', "Failed to process element: 1 key: a of 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [] but got: [1]"],
  ];
  for (const [json, message] of cases) assertFails(json, status.INVALID_ARGUMENT, message);
});

test('columnar errors: missing input, plain value for several inputs, ragged', () => {
  assertFails('{"signature_name": "pair", "inputs": {"a": [1]}}', status.INVALID_ARGUMENT, "Missing named input: b in 'inputs' object.");
  assertFails('{"signature_name": "pair", "inputs": [1]}', status.INVALID_ARGUMENT, 'inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map');
  assertFails('{"inputs": [[1], [2, 3]]}', status.INVALID_ARGUMENT, 'Encountered list at unexpected size: 2 at level: 1 expected size: 1');
});

test('unsupported input dtypes stay 501 in both formats', () => {
  const half = { serving_default: signature({ x: DataType.DT_HALF }) };
  for (const json of ['{"inputs": [1.5]}', '{"instances": [1.5]}']) {
    assert.throws(() => predictFromJson(Buffer.from(json), half), (error: ServingError) => error.code === status.UNIMPLEMENTED && /Conversion of JSON Value: 1.5 to type: half/.test(error.message));
  }
});

test('b64 objects are values, not named-input objects', () => {
  const strings = { serving_default: signature({ x_bytes: DataType.DT_STRING }) };
  const rows = predictFromJson(Buffer.from('{"instances": [{"b64": "AQI="}, {"b64": "Aw=="}]}'), strings);
  assert.deepEqual(rows.inputs.x_bytes?.stringVal.map((s) => [...s]), [[1, 2], [3]]);
  const column = predictFromJson(Buffer.from('{"inputs": {"b64": "AQI="}}'), strings);
  assert.deepEqual(column.inputs.x_bytes?.stringVal.map((s) => [...s]), [[1, 2]]);
});

test('the tensors keep nothing of the body, whose buffer serves the next request', () => {
  const body = Buffer.from('{"instances": [{"a": 7, "b": "word"}, {"a": 8, "b": {"b64": "AAE="}}]}');
  const signatures = { ...SIGNATURES, serving_default: SIGNATURES.pair! };
  const { inputs } = predictFromJson(body, signatures);
  body.fill(0x20);
  assert.deepEqual(tensor(inputs.a).values, [7n, 8n]);
  assert.deepEqual(inputs.b!.stringVal.map((bytes) => Buffer.from(bytes).toString('latin1')), ['word', '\x00\x01']);
  const floats = Buffer.from('{"inputs": [[1.5, 2.5]]}');
  const { inputs: columns } = predictFromJson(floats, SIGNATURES);
  floats.fill(0x20);
  assert.deepEqual(tensor(columns.x).values, [1.5, 2.5]);
});
