import * as ort from 'onnxruntime-node';
import { defaultBatchingOptions, type BatchingOptions, type TensorMap } from '../src/index.js';

export interface RunCall {
  batchSize: number;
  inputs: TensorMap;
  outputs?: TensorMap;
}

/** A run function over a real session that records every call; `before` may delay or gate it. */
export function recordingRun(
  session: ort.InferenceSession,
  before?: (call: RunCall) => Promise<void> | void,
): { calls: RunCall[]; active: () => number; maxActive: () => number; run: (inputs: TensorMap, batchSize: number) => Promise<TensorMap> } {
  const calls: RunCall[] = [];
  let active = 0;
  let maxActive = 0;
  return {
    calls,
    active: () => active,
    maxActive: () => maxActive,
    run: async (inputs, batchSize) => {
      const call: RunCall = { batchSize, inputs };
      calls.push(call);
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        await before?.(call);
        call.outputs = (await session.run(inputs)) as TensorMap;
        return call.outputs;
      } finally {
        active--;
      }
    },
  };
}

/** A float32 [rows, width] tensor holding start, start+1, ... */
export function floatRows(rows: number, width: number, start = 0): ort.Tensor {
  const data = new Float32Array(rows * width);
  for (let i = 0; i < data.length; i++) data[i] = start + i;
  return new ort.Tensor('float32', data, [rows, width]);
}

export function plusOne(tensor: ort.Tensor): number[] {
  return Array.from(tensor.data as Float32Array, (v) => v + 1);
}

export interface Gate {
  readonly started: Promise<void>;
  wait(): Promise<void>;
  open(): void;
}

/** The first wait() signals `started` and blocks until open(); later waits pass once opened. */
export function gate(): Gate {
  let open!: () => void;
  let started!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const startedPromise = new Promise<void>((resolve) => (started = resolve));
  return {
    started: startedPromise,
    wait: () => {
      started();
      return opened;
    },
    open,
  };
}

/** Options for tests: TF defaults, one batch thread, then overrides. */
export function options(overrides: Partial<BatchingOptions> = {}): BatchingOptions {
  const maxBatchSize = overrides.maxBatchSize ?? 32;
  return {
    ...defaultBatchingOptions(),
    numBatchThreads: 1,
    maxBatchSize,
    maxExecutionBatchSize: maxBatchSize,
    ...overrides,
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves after the pending setImmediate callbacks (e.g. a batcher's dispatch) have run. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Settles a promise into a value/error pair, so tests can inspect rejections without unhandled-rejection noise. */
export async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

export function timerCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length;
}
