import { buildOnnxModel, type InitializerSpec, type NodeSpec } from '@maas/test-support';
import { MLP_LAYERS } from './workloads.js';

/**
 * A generated MLP (MatMul + Add + Relu per hidden layer, no Relu on the output) with fixed
 * pseudo-random weights: a model whose compute per item is small, so serving overhead shows.
 */
export function buildMlpModel(layers: readonly number[] = MLP_LAYERS): Uint8Array {
  const initializers: InitializerSpec[] = [];
  const nodes: NodeSpec[] = [];
  let state = 12345;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
  let current = 'x';
  for (let i = 0; i + 1 < layers.length; i++) {
    const fanIn = layers[i]!;
    const fanOut = layers[i + 1]!;
    // Scaled by 1/sqrt(fan-in) so activations stay finite through the layers.
    const scale = 2 / Math.sqrt(fanIn);
    initializers.push(
      { name: `w${i}`, type: 'float32', dims: [fanIn, fanOut], values: Array.from({ length: fanIn * fanOut }, () => next() * scale) },
      { name: `b${i}`, type: 'float32', dims: [fanOut], values: Array.from({ length: fanOut }, () => next() * 0.1) },
    );
    const last = i + 2 === layers.length;
    const out = last ? 'y' : `h${i}`;
    nodes.push({ op: 'MatMul', inputs: [current, `w${i}`], outputs: [`${out}_mm`] });
    if (last) {
      nodes.push({ op: 'Add', inputs: [`${out}_mm`, `b${i}`], outputs: [out] });
    } else {
      nodes.push({ op: 'Add', inputs: [`${out}_mm`, `b${i}`], outputs: [`${out}_pre`] });
      nodes.push({ op: 'Relu', inputs: [`${out}_pre`], outputs: [out] });
    }
    current = out;
  }
  return buildOnnxModel({
    inputs: [{ name: 'x', type: 'float32', shape: ['batch', layers[0]!] }],
    outputs: [{ name: 'y', type: 'float32', shape: ['batch', layers[layers.length - 1]!] }],
    initializers,
    nodes,
  });
}

/** Shape of the compute-bound MLP (the 'dense' workload in workloads.ts). */
export interface DenseMlpShape {
  /** Features of one item: the request stays small. */
  input: number;
  /** Rows each item is spread over inside the model, so every layer is a matrix product, not a vector one. */
  rows: number;
  width: number;
  layers: number;
  output: number;
}

/**
 * A compute-bound MLP: each item's small input is projected to `width`, spread over `rows` rows (plus
 * a learned offset per row), goes through `layers` MatMul + Relu of width × width, is averaged over
 * the rows and projected to `output`. The hidden layers take turns between two weight matrices, so
 * what a run touches stays in a core's L2 cache: a run is bound by arithmetic (what scale-out is
 * meant to show), not by memory bandwidth that two workers on one host would share.
 */
export function buildDenseMlpModel(shape: DenseMlpShape): Uint8Array {
  const { input, rows, width, layers, output } = shape;
  let state = 54321;
  const values = (count: number, scale: number) =>
    Array.from({ length: count }, () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return (state / 2 ** 32 - 0.5) * scale;
    });
  // Uniform with variance 2 / fan-in (He): activations keep their size through the Relu layers.
  const weights = (fanIn: number, fanOut: number) => values(fanIn * fanOut, Math.sqrt(24 / fanIn));
  const initializers: InitializerSpec[] = [
    { name: 'w_in', type: 'float32', dims: [input, width], values: weights(input, width) },
    { name: 'row_offsets', type: 'float32', dims: [rows, width], values: values(rows * width, 1) },
    { name: 'w_a', type: 'float32', dims: [width, width], values: weights(width, width) },
    { name: 'w_b', type: 'float32', dims: [width, width], values: weights(width, width) },
    { name: 'w_out', type: 'float32', dims: [width, output], values: weights(width, output) },
    { name: 'one_row_shape', type: 'int64', dims: [3], values: [-1, 1, width] },
    { name: 'rows_shape', type: 'int64', dims: [2], values: [-1, width] },
    { name: 'items_shape', type: 'int64', dims: [3], values: [-1, rows, width] },
  ];
  const nodes: NodeSpec[] = [
    { op: 'MatMul', inputs: ['x', 'w_in'], outputs: ['projected'] },
    { op: 'Reshape', inputs: ['projected', 'one_row_shape'], outputs: ['one_row'] },
    { op: 'Add', inputs: ['one_row', 'row_offsets'], outputs: ['spread'] },
    { op: 'Reshape', inputs: ['spread', 'rows_shape'], outputs: ['h0'] },
  ];
  for (let i = 0; i < layers; i++) {
    nodes.push(
      { op: 'MatMul', inputs: [`h${i}`, i % 2 === 0 ? 'w_a' : 'w_b'], outputs: [`h${i}_mm`] },
      { op: 'Relu', inputs: [`h${i}_mm`], outputs: [`h${i + 1}`] },
    );
  }
  nodes.push(
    { op: 'Reshape', inputs: [`h${layers}`, 'items_shape'], outputs: ['per_item'] },
    { op: 'ReduceMean', inputs: ['per_item'], outputs: ['pooled'], attributes: { axes: [1], keepdims: 0 } },
    { op: 'MatMul', inputs: ['pooled', 'w_out'], outputs: ['y'] },
  );
  return buildOnnxModel({
    inputs: [{ name: 'x', type: 'float32', shape: ['batch', input] }],
    outputs: [{ name: 'y', type: 'float32', shape: ['batch', output] }],
    initializers,
    nodes,
  });
}
