import { InvalidArgumentError, ResourceExhaustedError, ServingError } from '@maas/errors';

const OUT_OF_MEMORY = /bad_alloc|out of memory|failed to allocate/i;

/**
 * A failed session.run as a typed error. The model loaded and the request's names and dtypes were
 * checked before running, so what is left (rank, dims, broadcasting inside the graph) is caused by
 * the input: INVALID_ARGUMENT, as TF Serving answers for a bad tensor. Allocation failures are the
 * exception: RESOURCE_EXHAUSTED, so clients back off instead of fixing their input.
 */
export function runError(error: unknown, model: string): ServingError {
  if (error instanceof ServingError) return error;
  const text = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
  if (OUT_OF_MEMORY.test(text)) return new ResourceExhaustedError(`${model}: out of memory while running: ${text}`);
  return new InvalidArgumentError(`${model}: onnxruntime rejected the input: ${text}`, { cause: error });
}
