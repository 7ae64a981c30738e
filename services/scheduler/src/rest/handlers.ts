import type { ModelSpec } from '@maas/protos';
import type { CallContext, ServingBackend } from '@maas/serving-api';
import { classificationResultJson, exampleRequestFromJson, regressionResultJson } from './classify-regress-json.js';
import { SIGNATURE_DEF_FIELD, modelMetadataJson } from './metadata-json.js';
import { recycleBody } from './body-buffers.js';
import { predictFromJson, type PredictJson } from './predict-json.js';
import { predictResponseJson } from './predict-response-json.js';
import { servableSignatures } from './predict-signature.js';
import { modelStatusJson } from './status-json.js';

/** One REST call answered by the backend: JSON out, failures thrown. POST bodies are read on demand. */
export type ReadBody = () => Promise<Buffer>;

export async function getStatus(backend: ServingBackend, spec: ModelSpec, context: CallContext): Promise<string> {
  return modelStatusJson(await backend.getModelStatus({ modelSpec: spec }, context));
}

export async function getMetadata(backend: ServingBackend, spec: ModelSpec, context: CallContext): Promise<string> {
  return modelMetadataJson(await backend.getModelMetadata({ modelSpec: spec, metadataField: [SIGNATURE_DEF_FIELD] }, context));
}

export async function predict(backend: ServingBackend, spec: ModelSpec, readBody: ReadBody, context: CallContext): Promise<Buffer> {
  // The signatures are looked up while the body arrives; a body that fails wins over a lookup that fails.
  const signatures = servableSignatures(backend, spec, context);
  signatures.catch(() => undefined);
  const body = await readBody();
  let json: PredictJson;
  try {
    json = predictFromJson(body, await signatures);
  } finally {
    // The tensors hold copies of what they need from the body, so its buffer can serve the next one.
    recycleBody(body);
  }
  const { signatureName, format, inputs } = json;
  const response = await backend.predict({ modelSpec: { ...spec, signatureName }, inputs, outputFilter: [] }, context);
  return predictResponseJson(response.outputs, format);
}

export async function classify(backend: ServingBackend, spec: ModelSpec, readBody: ReadBody, context: CallContext): Promise<Buffer> {
  const { signatureName, input } = exampleRequestFromJson(await readBody());
  const response = await backend.classify({ modelSpec: { ...spec, signatureName }, input }, context);
  return classificationResultJson(response.result);
}

export async function regress(backend: ServingBackend, spec: ModelSpec, readBody: ReadBody, context: CallContext): Promise<Buffer> {
  const { signatureName, input } = exampleRequestFromJson(await readBody());
  const response = await backend.regress({ modelSpec: { ...spec, signatureName }, input }, context);
  return regressionResultJson(response.result);
}
