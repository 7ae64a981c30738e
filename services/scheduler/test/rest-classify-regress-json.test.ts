import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { ServingError } from '@maas/errors';
import { classificationResultJson, exampleRequestFromJson, regressionResultJson } from '../src/rest/classify-regress-json.js';

const request = (json: string) => exampleRequestFromJson(Buffer.from(json));

function assertInvalid(json: string, message: string | RegExp): void {
  assert.throws(() => request(json), (error: ServingError) => {
    assert.equal(error.code, status.INVALID_ARGUMENT, error.message);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

test('examples become Example protos: strings and b64 to bytes, decimals to floats, integers and booleans to int64', () => {
  const { signatureName, input } = request(
    '{"signature_name": "cls", "examples": [{"name": "ann", "tags": ["a", {"b64": "AP8="}], "age": 42, "score": [0.5, 1e2, NaN], "ok": [true, false], "big": -9223372036854775808, "empty": []}]}',
  );
  assert.equal(signatureName, 'cls');
  assert.equal(input.exampleListWithContext, undefined);
  const feature = input.exampleList!.examples[0]!.features!.feature;
  assert.deepEqual(feature.name, { bytesList: { value: [Buffer.from('ann')] } });
  assert.deepEqual(feature.tags!.bytesList!.value.map((b) => [...b]), [[0x61], [0, 255]]);
  assert.deepEqual(feature.age, { int64List: { value: [42n] } });
  assert.deepEqual(feature.score!.floatList!.value.slice(0, 2), [0.5, 100]);
  assert.ok(Number.isNaN(feature.score!.floatList!.value[2]));
  assert.deepEqual(feature.ok, { int64List: { value: [1n, 0n] } });
  assert.deepEqual(feature.big, { int64List: { value: [-(2n ** 63n)] } });
  assert.deepEqual(feature.empty, {});
});

test('a context makes the input an ExampleListWithContext', () => {
  const { input, signatureName } = request('{"context": {"lang": "en"}, "examples": [{"x": 1}, {"x": 2}]}');
  assert.equal(signatureName, '');
  assert.equal(input.exampleList, undefined);
  const list = input.exampleListWithContext!;
  assert.deepEqual(list.context!.features!.feature.lang, { bytesList: { value: [Buffer.from('en')] } });
  assert.deepEqual(list.examples.map((e) => e.features!.feature.x!.int64List!.value[0]), [1n, 2n]);
});

test('request format errors, in TF\'s words', () => {
  assertInvalid('[1]', 'JSON Value: [1] Is not object');
  assertInvalid('{"examples": [{}], "signature_name": 1}', /^JSON Value: .* not formatted correctly\. 'signature_name' key must be a string value\.$/);
  assertInvalid('{"instances": [1]}', `JSON Value: {"instances": [1]} When method is classify, key 'examples' is expected and was not found`);
  assertInvalid('{"examples": {}}', /^JSON Value: .* Expecting 'examples' value to be an list\/array$/);
  assertInvalid('{"examples": []}', /^JSON Value: .* 'examples' value is an empty array$/);
  assertInvalid('{"examples": [1]}', 'Example must be JSON object but got JSON Number');
  assertInvalid('{"context": [], "examples": [{}]}', 'Example must be JSON object but got JSON Array');
});

test('feature value errors: null, nested lists, plain objects, uint64, mixed kinds', () => {
  assertInvalid('{"examples": [{"f": null}]}', 'Feature: f has element with unexpected JSON type: Null');
  assertInvalid('{"examples": [{"f": [[1]]}]}', 'Feature: f has element with unexpected JSON type: Array');
  assertInvalid('{"examples": [{"f": {"x": 1}}]}', 'Feature: f has element with unexpected JSON type: Object');
  assertInvalid('{"examples": [{"f": 18446744073709551615}]}', 'Feature: f has uint64 element. Only int64 is supported.');
  assertInvalid('{"examples": [{"f": [1, 2.5]}]}', 'Unexpected element type in feature: f expecting type: int64');
  assertInvalid('{"examples": [{"f": ["a", 1]}]}', 'Unexpected element type in feature: f expecting type: bytes');
  assertInvalid('{"examples": [{"f": [1.5, true]}]}', 'Unexpected element type in feature: f expecting type: float');
  assertInvalid('{"examples": [{"f": {"b64": "**"}}]}', 'Unable to base64 decode');
  // Integers beyond uint64 are doubles to rapidjson, so floats.
  assert.deepEqual(request('{"examples": [{"f": 36893488147419103232}]}').input.exampleList!.examples[0]!.features!.feature.f!.floatList!.value, [36893488147419103232]);
});

test('classification results: one list of [label, score] pairs per example', () => {
  const text = classificationResultJson({
    classifications: [
      { classes: [{ label: 'cat', score: 0.75 }, { label: 'dog', score: 0.25 }] },
      { classes: [{ label: '', score: 1 }] },
    ],
  }).toString();
  assert.equal(text, '{"results":[[["cat",0.75],["dog",0.25]],[["",1.0]]]}');
  assert.throws(() => classificationResultJson({ classifications: [] }), /Cannot convert empty ClassificationResults to JSON/);
  assert.throws(() => classificationResultJson(undefined), /Cannot convert empty ClassificationResults to JSON/);
});

test('regression results: one value per example', () => {
  assert.equal(regressionResultJson({ regressions: [{ value: 0.5 }, { value: 3 }, { value: NaN }] }).toString(), '{"results":[0.5,3.0,NaN]}');
  assert.throws(() => regressionResultJson({ regressions: [] }), /Cannot convert empty RegressionResults to JSON/);
});
