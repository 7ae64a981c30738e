import { InvalidArgumentError } from '@maas/errors';

/**
 * A decode failure for one input. TF Serving reports these as "tensor parsing error: <alias>";
 * we keep that prefix so clients matching on it still do, and add what was expected and what came.
 */
export function parseError(alias: string | undefined, detail: string): InvalidArgumentError {
  return new InvalidArgumentError(alias === undefined ? `tensor parsing error: ${detail}` : `tensor parsing error: ${alias}: ${detail}`);
}
