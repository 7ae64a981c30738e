import type { ModelSpec, SignatureDef } from '@maas/protos';
import type { CallContext, ServingBackend } from '@maas/serving-api';
import { SIGNATURE_DEF_FIELD, signatureDefMapOf } from './metadata-json.js';

/**
 * Every signature of the servable a REST predict names: the JSON conversion needs the input
 * aliases and dtypes first (TF loads the servable to read them). Asked of the backend's
 * GetModelMetadata for the same model/version/label, so unknown models and versions fail as
 * predict would. Not cached: resolving Latest or a label needs the call anyway, and it is cheap
 * (in-process for the single node).
 */
export async function servableSignatures(backend: ServingBackend, spec: ModelSpec, context: CallContext): Promise<Record<string, SignatureDef>> {
  const metadata = await backend.getModelMetadata({ modelSpec: { ...spec, signatureName: '' }, metadataField: [SIGNATURE_DEF_FIELD] }, context);
  return signatureDefMapOf(metadata).signatureDef;
}
