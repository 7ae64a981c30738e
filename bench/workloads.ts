// The models the benchmark drives, described once so the load generator, the in-process
// compute-limit runner and the model repository all agree on names and shapes.

/** What a scenario asks for; plain JSON so it can be handed to child processes. */
export type WorkloadRef = { kind: 'classifier' } | { kind: 'mlp' } | { kind: 'dense' } | { kind: 'identity'; bytes: number };

export interface Workload {
  ref: WorkloadRef;
  /** Short name for tables. */
  label: string;
  /** Served model name (and directory name in the model repository). */
  model: string;
  input: string;
  output: string;
  /** Shape of one item (one row of the batch dimension). */
  itemShape: number[];
  outputItemShape: number[];
}

/** PaddleOCR's text-direction classifier (the demo model). */
export const CLASSIFIER_MODEL = 'text_direction';
export const MLP_MODEL = 'mlp';
export const DENSE_MODEL = 'dense_mlp';
export const IDENTITY_MODEL = 'identity';

/** Sizes of the generated MLP: input, hidden layers, output. */
export const MLP_LAYERS = [256, 1024, 1024, 16] as const;

/**
 * The generated compute-bound MLP (bench/mlp-model.ts buildDenseMlpModel): a 256-byte request,
 * ~4.8 GFLOP per item (~19 ms of one core on the 2-core bench host at ~250 GFLOP/s), so compute
 * outweighs the transport's ~1 ms of CPU per request many times over.
 */
export const DENSE_MLP = { input: 64, rows: 256, width: 256, layers: 144, output: 16 } as const;

export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 20) return `${+(bytes / (1 << 20)).toFixed(1)} MB`;
  if (bytes >= 1 << 10) return `${+(bytes / (1 << 10)).toFixed(1)} KB`;
  return `${bytes} B`;
}

export function workload(ref: WorkloadRef): Workload {
  switch (ref.kind) {
    case 'classifier':
      return { ref, label: 'classifier', model: CLASSIFIER_MODEL, input: 'x', output: 'softmax_0.tmp_0', itemShape: [3, 48, 192], outputItemShape: [2] };
    case 'mlp':
      return { ref, label: 'mlp', model: MLP_MODEL, input: 'x', output: 'y', itemShape: [MLP_LAYERS[0]], outputItemShape: [MLP_LAYERS[MLP_LAYERS.length - 1]!] };
    case 'dense':
      return { ref, label: 'dense mlp', model: DENSE_MODEL, input: 'x', output: 'y', itemShape: [DENSE_MLP.input], outputItemShape: [DENSE_MLP.output] };
    case 'identity': {
      // float32 elements, so the tensor is as close to the asked size as 4-byte steps allow.
      const n = Math.max(1, Math.round(ref.bytes / 4));
      return { ref, label: `identity ${formatBytes(n * 4)}`, model: IDENTITY_MODEL, input: 'x', output: 'y', itemShape: [n], outputItemShape: [n] };
    }
  }
}

export function elementsPerItem(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Deterministic input values (a tiny LCG) so runs are repeatable; multiples of 1/256 keep the
 * REST JSON short and identical between runs.
 */
export function inputValues(count: number, seed = 1): Float32Array {
  const values = new Float32Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = (state >>> 24) / 256;
  }
  return values;
}
