import { createRequire } from 'node:module';

/** Sizes a list-of-numbers value may have at most (deeper values are left to the caller). */
export const MAX_RANK = 32;

/** readLists answers: the value is not a rectangular non-empty list of numbers, or out is too small. */
export const NOT_HANDLED = -1;
export const OUT_OF_ROOM = -2;

export interface NumberLists {
  /**
   * Reads the JSON value at bytes[start..end) (leading whitespace allowed) into out[offset...] if
   * it is a rectangular, non-empty nested list of JSON numbers, and returns the position after
   * it; `shape` receives [rank, size0, size1, ...]. NOT_HANDLED for any other value (nothing is
   * written that the caller keeps); OUT_OF_ROOM if out has too few elements after offset (shape
   * then holds the value's full shape).
   */
  readLists(bytes: Uint8Array, start: number, end: number, out: Float32Array | Float64Array, offset: number, shape: Int32Array): number;
  /** readLists without the AVX-512 float32 reader: the same answers, for tests to compare. */
  readListsPortable(bytes: Uint8Array, start: number, end: number, out: Float32Array | Float64Array, offset: number, shape: Int32Array): number;
  /** Whether readLists reads float32 lists with AVX-512 on this processor (float-lists-avx512.cc). */
  readonly avx512: boolean;
}

/**
 * The native reader, built by `npm ci` (node-gyp, see binding.gyp), or undefined where it was not
 * built (installed with --ignore-scripts, or bundled without it): callers then read in JavaScript.
 * Native because it reads a 224×224×3 image of floats printed with 17 digits (3 MB of JSON) in
 * about 1.05 ms on the CI machine (AVX-512; 1.3 portable), where json-to-tensor.ts's JavaScript
 * loop, tuned as far as it went, took about 2.5 times the portable reader's time
 * (docs/performance.md, "REST vs gRPC").
 */
export const numberLists: NumberLists | undefined = load();

function load(): NumberLists | undefined {
  try {
    return createRequire(import.meta.url)('../build/Release/number_lists.node') as NumberLists;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}
