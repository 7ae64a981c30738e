import type { ClassificationResult, Example, Feature, Input, RegressionResult } from '@maas/protos';
import { InvalidArgumentError } from '@maas/errors';
import { base64ObjectBytes, formatError, isBase64Object, jsonTypeName, JsonNumber, JsonObject, parseJson, type JsonValue } from './json-value.js';
import { INT64_MAX, INT64_MIN, UINT64_MAX } from './int64.js';
import { JsonWriter } from './json-writer.js';

export interface ExampleRequest {
  signatureName: string;
  input: Input;
}


type Kind = 'bytes' | 'float' | 'int64';

function kindOf(feature: Feature): Kind | undefined {
  return feature.bytesList ? 'bytes' : feature.floatList ? 'float' : feature.int64List ? 'int64' : undefined;
}

/** The feature's list of `kind`, created on first use; mixing kinds is TF's IncompatibleFeatureKindError. */
function listOf<K extends Kind>(feature: Feature, name: string, kind: K) {
  const current = kindOf(feature);
  if (current !== undefined && current !== kind) throw new InvalidArgumentError(`Unexpected element type in feature: ${name} expecting type: ${current}`);
  if (kind === 'bytes') return (feature.bytesList ??= { value: [] }).value;
  if (kind === 'float') return (feature.floatList ??= { value: [] }).value;
  return (feature.int64List ??= { value: [] }).value;
}

const unexpected = (name: string, value: JsonValue) =>
  new InvalidArgumentError(`Feature: ${name} has element with unexpected JSON type: ${jsonTypeName(value)}`);

/** TF's AddValueToFeature (shared/spec §7.5). */
function addValue(feature: Feature, name: string, value: JsonValue): void {
  if (value === null || Array.isArray(value)) throw unexpected(name, value);
  if (typeof value === 'boolean') {
    (listOf(feature, name, 'int64') as bigint[]).push(value ? 1n : 0n);
  } else if (typeof value === 'string') {
    (listOf(feature, name, 'bytes') as Uint8Array[]).push(Buffer.from(value, 'utf8'));
  } else if (value instanceof JsonObject) {
    if (!isBase64Object(value)) throw unexpected(name, value);
    const list = listOf(feature, name, 'bytes') as Uint8Array[];
    list.push(base64ObjectBytes(value));
  } else {
    addNumber(feature, name, value);
  }
}

/** Integers that fit int64 go to int64_list, uint64-only ones are refused, all other numbers are floats. */
function addNumber(feature: Feature, name: string, value: JsonNumber): void {
  const exact = value.isInteger ? BigInt(value.text) : undefined;
  if (exact !== undefined && exact >= INT64_MIN && exact <= INT64_MAX) {
    (listOf(feature, name, 'int64') as bigint[]).push(exact);
  } else if (exact !== undefined && exact > 0n && exact <= UINT64_MAX) {
    listOf(feature, name, 'int64');
    throw new InvalidArgumentError(`Feature: ${name} has uint64 element. Only int64 is supported.`);
  } else {
    (listOf(feature, name, 'float') as number[]).push(value.value);
  }
}

/** TF's MakeExampleFromJsonObject: each member is a feature, a value or a flat list of values. */
export function exampleFromJson(value: JsonValue): Example {
  if (!(value instanceof JsonObject)) throw new InvalidArgumentError(`Example must be JSON object but got JSON ${jsonTypeName(value)}`);
  const features: Record<string, Feature> = {};
  for (const [name, content] of value.entries) {
    const feature: Feature = {};
    for (const item of Array.isArray(content) ? content : [content]) addValue(feature, name, item);
    features[name] = feature;
  }
  return { features: { feature: features } };
}

/** A :classify or :regress body as the request's Input (TF's FillClassifyRegressRequestFromJson). */
export function exampleRequestFromJson(body: Buffer): ExampleRequest {
  const doc = parseJson(body);
  if (!(doc instanceof JsonObject)) throw formatError(body, 'Is not object');
  const signatureName = doc.get('signature_name') ?? '';
  if (typeof signatureName !== 'string') throw formatError(body, "not formatted correctly. 'signature_name' key must be a string value.");
  const contextValue = doc.get('context');
  const context = contextValue === undefined ? undefined : exampleFromJson(contextValue);
  const examplesValue = doc.get('examples');
  // TF says "classify" here for both methods.
  if (examplesValue === undefined) throw formatError(body, "When method is classify, key 'examples' is expected and was not found");
  if (!Array.isArray(examplesValue)) throw formatError(body, "Expecting 'examples' value to be an list/array");
  if (examplesValue.length === 0) throw formatError(body, "'examples' value is an empty array");
  const examples = examplesValue.map(exampleFromJson);
  return { signatureName, input: context ? { exampleListWithContext: { examples, context } } : { exampleList: { examples } } };
}

/** `{"results": [[[label, score], …], …]}`, one list per example (TF's MakeJsonFromClassificationResult). */
export function classificationResultJson(result: ClassificationResult | undefined): Buffer {
  if (!result || result.classifications.length === 0) throw new InvalidArgumentError('Cannot convert empty ClassificationResults to JSON');
  const writer = new JsonWriter();
  writer.ascii('{"results":[');
  result.classifications.forEach((classifications, i) => {
    if (i > 0) writer.byte(0x2c);
    writer.byte(0x5b);
    classifications.classes.forEach((c, j) => {
      if (j > 0) writer.byte(0x2c);
      writer.byte(0x5b);
      writer.string(c.label);
      writer.byte(0x2c);
      writer.float32(c.score);
      writer.byte(0x5d);
    });
    writer.byte(0x5d);
  });
  writer.ascii(']}');
  return writer.finish();
}

/** `{"results": [v1, v2, …]}` (TF's MakeJsonFromRegressionResult). */
export function regressionResultJson(result: RegressionResult | undefined): Buffer {
  if (!result || result.regressions.length === 0) throw new InvalidArgumentError('Cannot convert empty RegressionResults to JSON');
  const writer = new JsonWriter();
  writer.ascii('{"results":[');
  result.regressions.forEach((r, i) => {
    if (i > 0) writer.byte(0x2c);
    writer.float32(r.value);
  });
  writer.ascii(']}');
  return writer.finish();
}
