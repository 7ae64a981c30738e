import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { ClassificationRequest, DataType, MultiInferenceRequest, PredictRequest, type Example, type Input, type TensorProto } from '@maas/protos';
import { InvalidArgumentError, ResourceExhaustedError } from '@maas/errors';
import { checkExampleInput, checkPredictRequest, DEFAULT_REQUEST_LIMITS, InFlightPerClient, screenRequestBytes, type RequestLimits } from '../src/index.js';

const PREDICT = '/tensorflow.serving.PredictionService/Predict';
const CLASSIFY = '/tensorflow.serving.PredictionService/Classify';
const MULTI = '/tensorflow.serving.PredictionService/MultiInference';
const limits = (overrides: Partial<RequestLimits>): RequestLimits => ({ ...DEFAULT_REQUEST_LIMITS, ...overrides });
const text = (s: string) => new TextEncoder().encode(s);

function tensor(dims: number[], fields: Partial<TensorProto> = {}): TensorProto {
  return {
    dtype: DataType.DT_FLOAT,
    tensorShape: { dim: dims.map((size) => ({ size: BigInt(size), name: '' })), unknownRank: false },
    versionNumber: 0,
    tensorContent: new Uint8Array(),
    halfVal: [], floatVal: [], doubleVal: [], intVal: [], stringVal: [], scomplexVal: [], int64Val: [], boolVal: [],
    dcomplexVal: [], resourceHandleVal: [], variantVal: [], uint32Val: [], uint64Val: [], float8Val: new Uint8Array(),
    ...fields,
  } as TensorProto;
}

const predict = (inputs: Record<string, TensorProto>) =>
  Buffer.from(PredictRequest.encode(PredictRequest.fromPartial({ modelSpec: { name: 'm' }, inputs })).finish());

function refusedBy(flag: string) {
  return (error: unknown) => error instanceof ResourceExhaustedError && error.code === status.RESOURCE_EXHAUSTED && error.message.includes(`--${flag}`);
}

test('a Predict request over the element limit is refused from its bytes, summed over inputs', () => {
  const bytes = predict({ a: tensor([10, 10]), b: tensor([5, 2]) });
  assert.doesNotThrow(() => screenRequestBytes(PREDICT, bytes, limits({ maxRequestElements: 110 })));
  assert.throws(() => screenRequestBytes(PREDICT, bytes, limits({ maxRequestElements: 109 })), refusedBy('max_request_elements'));
  // Declared shapes count, whatever the typed fields hold (TF repeats the last value to fill them).
  const broadcast = predict({ a: tensor([1_000_000_000], { floatVal: [1] }) });
  assert.throws(() => screenRequestBytes(PREDICT, broadcast, limits({})), refusedBy('max_request_elements'));
});

test('strings are checked in string_val and in DT_STRING tensor_content', () => {
  const long = text('x'.repeat(100));
  const inVal = predict({ s: tensor([1], { dtype: DataType.DT_STRING, stringVal: [long] }) });
  assert.doesNotThrow(() => screenRequestBytes(PREDICT, inVal, limits({ maxStringBytes: 100 })));
  assert.throws(() => screenRequestBytes(PREDICT, inVal, limits({ maxStringBytes: 99 })), refusedBy('max_string_bytes'));
  const content = new Uint8Array([2, 100, ...text('ab'), ...long]);
  const inContent = predict({ s: tensor([2], { dtype: DataType.DT_STRING, tensorContent: content }) });
  assert.throws(() => screenRequestBytes(PREDICT, inContent, limits({ maxStringBytes: 99 })), refusedBy('max_string_bytes'));
});

test('example requests count feature values (context once per example) and check bytes values', () => {
  const example = (floats: number, bytes: string[]): Example => ({
    features: { feature: { f: { floatList: { value: Array(floats).fill(1) } }, b: { bytesList: { value: bytes.map(text) } }, i: { int64List: { value: [1n, 300n] } } } },
  });
  const request = Buffer.from(
    ClassificationRequest.encode(
      ClassificationRequest.fromPartial({ modelSpec: { name: 'm' }, input: { exampleListWithContext: { examples: [example(3, ['ab']), example(3, [])], context: example(1, []) } } }),
    ).finish(),
  );
  // Values: (3 + 1 + 2) + (3 + 0 + 2) = 11 in the examples, context (1 + 2) once per example = 6.
  assert.doesNotThrow(() => screenRequestBytes(CLASSIFY, request, limits({ maxRequestElements: 17 })));
  assert.throws(() => screenRequestBytes(CLASSIFY, request, limits({ maxRequestElements: 16 })), refusedBy('max_request_elements'));
  assert.throws(() => screenRequestBytes(CLASSIFY, request, limits({ maxStringBytes: 1 })), refusedBy('max_string_bytes'));
  const multi = Buffer.from(MultiInferenceRequest.encode(MultiInferenceRequest.fromPartial({ input: { exampleList: { examples: [example(5, [])] } } })).finish());
  assert.throws(() => screenRequestBytes(MULTI, multi, limits({ maxRequestElements: 6 })), refusedBy('max_request_elements'));
});

test('bytes that are not a message are INVALID_ARGUMENT naming the method; other methods are not scanned', () => {
  for (const garbage of [Buffer.from([0xff, 0xff, 0xff]), Buffer.from([0x12, 0x40, 0x01]), Buffer.from([0x0f])]) {
    assert.throws(
      () => screenRequestBytes(PREDICT, garbage, limits({})),
      (e: Error) => e instanceof InvalidArgumentError && e.message.startsWith(`${PREDICT}: request is not a valid protobuf message`),
    );
  }
  assert.doesNotThrow(() => screenRequestBytes('/tensorflow.serving.ModelService/GetModelStatus', predict({ a: tensor([100]) }), limits({ maxRequestElements: 1 })));
});

test('decoded requests (REST) get the same limits plus rows', () => {
  const request = PredictRequest.fromPartial({ inputs: { a: tensor([4, 3]), s: tensor([4], { dtype: DataType.DT_STRING, stringVal: [text('abc')] }) } });
  assert.doesNotThrow(() => checkPredictRequest(request, limits({ maxRequestElements: 16, maxRestRows: 4, maxStringBytes: 3 })));
  assert.throws(() => checkPredictRequest(request, limits({ maxRequestElements: 15 })), refusedBy('max_request_elements'));
  assert.throws(() => checkPredictRequest(request, limits({ maxRestRows: 3 })), refusedBy('rest_api_max_rows'));
  assert.throws(() => checkPredictRequest(request, limits({ maxStringBytes: 2 })), refusedBy('max_string_bytes'));
  const input: Input = { exampleList: { examples: [{ features: { feature: { f: { floatList: { value: [1, 2] } } } } }, { features: { feature: {} } }] } };
  assert.doesNotThrow(() => checkExampleInput(input, limits({ maxRestRows: 2, maxRequestElements: 2 })));
  assert.throws(() => checkExampleInput(input, limits({ maxRestRows: 1 })), refusedBy('rest_api_max_rows'));
  assert.throws(() => checkExampleInput(input, limits({ maxRequestElements: 1 })), refusedBy('max_request_elements'));
});

test('requests in flight are capped per client and released once', () => {
  const inFlight = new InFlightPerClient(2);
  const first = inFlight.admit('alice');
  inFlight.admit('alice');
  assert.throws(() => inFlight.admit('alice'), refusedBy('max_in_flight_per_client'));
  assert.doesNotThrow(() => inFlight.admit('bob'));
  first();
  first();
  assert.equal(inFlight.inFlight('alice'), 1);
  assert.doesNotThrow(() => inFlight.admit('alice'));
});
