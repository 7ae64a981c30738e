import { DataType, PredictRequest, PredictResponse, TensorProto } from '@maas/protos';
import { elementsPerItem, inputValues, type Workload } from './workloads.js';

/** One request, encoded once up front so sending it costs the load generator next to nothing. */
export interface Payload {
  /** Rows in the batch dimension. */
  items: number;
  /** Bytes of the input tensor itself. */
  tensorBytes: number;
  /** Serialized PredictRequest for gRPC. */
  grpcRequest: Buffer;
  /** TF Serving REST body: {"instances": [...]} (row format). */
  restBody: Buffer;
  /** Size of the PredictResponse the server sends back, so the echo server can answer alike. */
  grpcResponseBytes: number;
}

function floatTensor(shape: number[], values: Float32Array): TensorProto {
  return TensorProto.fromPartial({
    dtype: DataType.DT_FLOAT,
    tensorShape: { dim: shape.map((size) => ({ size: BigInt(size) })) },
    tensorContent: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  });
}

/** Nests a flat row-major array into JSON arrays of the given shape. */
function nest(values: Float32Array, shape: readonly number[], offset = 0): unknown {
  const [dim, ...rest] = shape;
  if (dim === undefined) return values[offset];
  const stride = elementsPerItem(rest);
  return Array.from({ length: dim }, (_, i) => nest(values, rest, offset + i * stride));
}

export function buildPayload(workload: Workload, batch: number): Payload {
  const shape = [batch, ...workload.itemShape];
  const values = inputValues(elementsPerItem(shape));
  const request = PredictRequest.fromPartial({
    modelSpec: { name: workload.model, signatureName: 'serving_default' },
    inputs: { [workload.input]: floatTensor(shape, values) },
  });
  // What the server answers: same model_spec plus the version, one float output.
  const outputShape = [batch, ...workload.outputItemShape];
  const response = PredictResponse.fromPartial({
    modelSpec: { name: workload.model, version: 1n, signatureName: 'serving_default' },
    outputs: { [workload.output]: floatTensor(outputShape, new Float32Array(elementsPerItem(outputShape))) },
  });
  const instances = Array.from({ length: batch }, (_, i) => nest(values, workload.itemShape, i * elementsPerItem(workload.itemShape)));
  return {
    items: batch,
    tensorBytes: values.byteLength,
    grpcRequest: Buffer.from(PredictRequest.encode(request).finish()),
    restBody: Buffer.from(JSON.stringify({ instances })),
    grpcResponseBytes: PredictResponse.encode(response).finish().byteLength,
  };
}
