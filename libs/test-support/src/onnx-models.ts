import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX element types by onnxruntime's type name (onnx.proto TensorProto.DataType). */
export const ONNX_ELEMENT_TYPES = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
  bfloat16: 16,
} as const;

export type OnnxElementType = keyof typeof ONNX_ELEMENT_TYPES;

/** A dim is a fixed size, or a string naming a symbolic (dynamic) dim. */
export type Dim = number | string;

export interface ValueSpec {
  name: string;
  type: OnnxElementType;
  shape: Dim[];
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, number | number[] | string>;
}

export interface InitializerSpec {
  name: string;
  type: 'float32' | 'int64';
  dims: number[];
  values: number[];
}

export interface GraphSpec {
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: NodeSpec[];
  initializers?: InitializerSpec[];
  opset?: number;
}

function valueInfo(spec: ValueSpec) {
  return {
    name: spec.name,
    type: {
      tensorType: {
        elemType: ONNX_ELEMENT_TYPES[spec.type],
        shape: { dim: spec.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: number | number[] | string) {
  const types = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: types.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: types.INTS, ints: value };
  return Number.isInteger(value) ? { name, type: types.INT, i: value } : { name, type: types.FLOAT, f: value };
}

/** Serializes a small ONNX model (IR 8) built from a graph description. */
export function buildOnnxModel(spec: GraphSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'maas-test-support',
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }],
    graph: {
      name: 'test_graph',
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: (spec.initializers ?? []).map((init) => ({
        name: init.name,
        dims: init.dims,
        dataType: ONNX_ELEMENT_TYPES[init.type],
        ...(init.type === 'float32' ? { floatData: init.values } : { int64Data: init.values }),
      })),
      node: spec.nodes.map((node, index) => ({
        name: `${node.op}_${index}`,
        opType: node.op,
        input: node.inputs,
        output: node.outputs,
        attribute: Object.entries(node.attributes ?? {}).map(([name, value]) => attribute(name, value)),
      })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** y = Identity(x): one input, one output of the same type and shape. */
export function identityModel(type: OnnxElementType, shape: Dim[] = ['batch', 'n']): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'x', type, shape }],
    outputs: [{ name: 'y', type, shape }],
    nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
  });
}

/** y = x + addend (float32), so different versions of a model give tellable answers. */
export function addConstantModel(addend: number, shape: Dim[] = ['batch', 'n']): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'x', type: 'float32', shape }],
    outputs: [{ name: 'y', type: 'float32', shape }],
    initializers: [{ name: 'addend', type: 'float32', dims: [], values: [addend] }],
    nodes: [{ op: 'Add', inputs: ['x', 'addend'], outputs: ['y'] }],
  });
}

/** Two inputs, two outputs: sum = a + b, product = a * b (float32, [batch, 3]). */
export function twoInputTwoOutputModel(): Uint8Array {
  const shape: Dim[] = ['batch', 3];
  return buildOnnxModel({
    inputs: [
      { name: 'a', type: 'float32', shape },
      { name: 'b', type: 'float32', shape },
    ],
    outputs: [
      { name: 'sum', type: 'float32', shape },
      { name: 'product', type: 'float32', shape },
    ],
    nodes: [
      { op: 'Add', inputs: ['a', 'b'], outputs: ['sum'] },
      { op: 'Mul', inputs: ['a', 'b'], outputs: ['product'] },
    ],
  });
}
