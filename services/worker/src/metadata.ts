import { Any, SignatureDefMap, type GetModelMetadataRequest, type SignatureDef, type TensorInfo } from '@maas/protos';
import { InvalidArgumentError } from '@maas/errors';
import { DEFAULT_SIGNATURE } from '@maas/serving-api';
import { PREDICT_METHOD_NAME, type ModelSignature, type TensorSpec } from '@maas/onnx-runtime';

export const SIGNATURE_DEF_FIELD = 'signature_def';
const SIGNATURE_DEF_MAP_TYPE_URL = 'type.googleapis.com/tensorflow.serving.SignatureDefMap';

export function checkMetadataFields(request: GetModelMetadataRequest): void {
  if (request.metadataField.length === 0) {
    throw new InvalidArgumentError('GetModelMetadataRequest must specify at least one metadata_field');
  }
  for (const field of request.metadataField) {
    if (field !== SIGNATURE_DEF_FIELD) throw new InvalidArgumentError(`Metadata field ${field} is not supported`);
  }
}

function tensorInfo(spec: TensorSpec): TensorInfo {
  return {
    name: spec.name,
    dtype: spec.dtype,
    tensorShape: { dim: spec.shape.map((size) => ({ size: BigInt(size), name: '' })), unknownRank: false },
  };
}

export function signatureDef(signature: ModelSignature): SignatureDef {
  return {
    inputs: Object.fromEntries(signature.inputs.map((s) => [s.alias, tensorInfo(s)])),
    outputs: Object.fromEntries(signature.outputs.map((s) => [s.alias, tensorInfo(s)])),
    methodName: PREDICT_METHOD_NAME,
    defaults: {},
  };
}

/** The `metadata` map of GetModelMetadataResponse: a SignatureDefMap packed in an Any. */
export function signatureMetadata(signature: ModelSignature): Record<string, Any> {
  const map = SignatureDefMap.fromPartial({ signatureDef: { [DEFAULT_SIGNATURE]: signatureDef(signature) } });
  return { [SIGNATURE_DEF_FIELD]: Any.fromPartial({ typeUrl: SIGNATURE_DEF_MAP_TYPE_URL, value: SignatureDefMap.encode(map).finish() }) };
}
