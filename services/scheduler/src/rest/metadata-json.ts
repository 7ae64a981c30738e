import {
  dataTypeToJSON,
  SignatureDefMap,
  type GetModelMetadataResponse,
  type SignatureDef,
  type TensorInfo,
  type TensorProto,
  type TensorShapeProto,
} from '@maas/protos';
import { InternalError } from '@maas/errors';
import { enumJson } from './status-json.js';

/** The metadata map key, and the only field TF serves. */
export const SIGNATURE_DEF_FIELD = 'signature_def';

/** The SignatureDefMap packed in a GetModelMetadataResponse. */
export function signatureDefMapOf(response: GetModelMetadataResponse): SignatureDefMap {
  const packed = response.metadata[SIGNATURE_DEF_FIELD];
  if (!packed) throw new InternalError(`GetModelMetadata answered without '${SIGNATURE_DEF_FIELD}' metadata`);
  return SignatureDefMap.decode(packed.value);
}

function shapeJson(shape: TensorShapeProto) {
  return { dim: shape.dim.map((d) => ({ size: String(d.size), name: d.name })), unknown_rank: shape.unknownRank };
}

function tensorInfoJson(info: TensorInfo) {
  return {
    dtype: enumJson(info.dtype, dataTypeToJSON),
    ...(info.tensorShape && { tensor_shape: shapeJson(info.tensorShape) }),
    ...(info.name !== undefined && { name: info.name }),
    ...(info.cooSparse && {
      coo_sparse: {
        values_tensor_name: info.cooSparse.valuesTensorName,
        indices_tensor_name: info.cooSparse.indicesTensorName,
        dense_shape_tensor_name: info.cooSparse.denseShapeTensorName,
      },
    }),
  };
}

/** Default input values are rare (ONNX signatures have none); their dtype, shape and raw content are shown. */
function tensorProtoJson(tensor: TensorProto) {
  return {
    dtype: enumJson(tensor.dtype, dataTypeToJSON),
    ...(tensor.tensorShape && { tensor_shape: shapeJson(tensor.tensorShape) }),
    version_number: tensor.versionNumber,
    tensor_content: Buffer.from(tensor.tensorContent).toString('base64'),
  };
}

const mapValues = <T, U>(map: Record<string, T>, f: (value: T) => U) => Object.fromEntries(Object.entries(map).map(([k, v]) => [k, f(v)]));

function signatureDefJson(signature: SignatureDef) {
  return {
    inputs: mapValues(signature.inputs, tensorInfoJson),
    outputs: mapValues(signature.outputs, tensorInfoJson),
    method_name: signature.methodName,
    defaults: mapValues(signature.defaults, tensorProtoJson),
  };
}

/**
 * GET …/metadata as TF assembles it (shared/spec §7.7): the model_spec, and under
 * metadata.signature_def the SignatureDefMap itself, whose one field is also `signature_def`.
 * The Any wrapper (@type) is not shown.
 */
export function modelMetadataJson(response: GetModelMetadataResponse): string {
  const spec = response.modelSpec;
  const modelSpec = {
    name: spec?.name ?? '',
    signature_name: spec?.signatureName ?? '',
    ...(spec?.version !== undefined && { version: String(spec.version) }),
    ...(spec?.versionLabel !== undefined && { version_label: spec.versionLabel }),
  };
  const map = signatureDefMapOf(response);
  return JSON.stringify(
    { model_spec: modelSpec, metadata: { [SIGNATURE_DEF_FIELD]: { signature_def: mapValues(map.signatureDef, signatureDefJson) } } },
    null,
    1,
  );
}
