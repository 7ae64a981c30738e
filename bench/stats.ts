// Statistics for the benchmark: latency percentiles within a round, and the median (with min–max)
// across rounds, which is what reports show because this machine is noisy.

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Median with the range it came from; NaN everywhere when there were no values. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/**
 * Nearest-rank percentile of an ascending array: the smallest value with at least p % of the
 * values at or below it. Nearest-rank (not interpolation) so a reported p99 is a latency some
 * request really had.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function summarizeLatencies(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    meanMs: sorted.length ? sum / sorted.length : Number.NaN,
    p50Ms: percentile(sorted, 50),
    p95Ms: percentile(sorted, 95),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
  };
}

/** Median of the values; the mean of the middle two for an even count. NaNs are ignored. */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function spread(values: readonly number[]): Spread {
  const finite = values.filter((v) => !Number.isNaN(v));
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite) };
}

/** a / b, or undefined when either side is missing or b is not a positive number. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || Number.isNaN(a) || !(b > 0)) return undefined;
  return a / b;
}

/** Change from `start` to `value` in percent of `start`. */
export function driftPercent(start: number, value: number): number {
  return ((value - start) / start) * 100;
}

/**
 * Latency samples of one round in a preallocated buffer, so recording costs no allocation while
 * the load runs. Capacity bounds the round: callers stop sending once `full`.
 */
export class SampleBuffer {
  private readonly values: Float64Array;
  private size = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(Math.max(1, capacity));
  }

  get length(): number {
    return this.size;
  }

  get full(): boolean {
    return this.size >= this.values.length;
  }

  /** Returns false (and drops the value) when the buffer is full. */
  push(value: number): boolean {
    if (this.full) return false;
    this.values[this.size++] = value;
    return true;
  }

  view(): Float64Array {
    return this.values.subarray(0, this.size);
  }
}
