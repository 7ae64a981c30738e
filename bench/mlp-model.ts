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
