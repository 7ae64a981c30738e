import { setFlagsFromString } from 'node:v8';

/** The old generation may grow to (1 + this / 100) × its live size before the next full collection (V8 picks about 2× for these heaps). */
export const HEAP_GROWING_PERCENT = 200;

/**
 * Every message a server receives or sends passes through short-lived Buffers outside V8's heap
 * (socket reads, grpc-js's message assembly and framing; on the scheduler also the worker's
 * answer): several times the payload per call. V8 counts external bytes allocated since the last
 * full collection against the old generation's limit, which it sets at about twice a serving
 * process's small live heap (≈ 22 MB on the scheduler), so with 100 KB messages a full collection
 * ran every ~20 calls: over half of the scheduler's CPU and most of a worker's at one client, and
 * 10–20 ms pauses in the p99. A fixed growing factor of 3 leaves room for those Buffers to be
 * freed by young collections or a much rarer full one (docs/performance.md, Cluster). V8 reads the flag whenever it sets a new
 * limit, so setting it at run time works; the process's own --heap-growing-percent wins if given.
 * Returns whether it set the flag.
 */
export function tuneHeapForMessageBuffers(execArgv = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  if ([...execArgv, nodeOptions].some((arg) => /heap[-_]growing[-_]percent/.test(arg))) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
