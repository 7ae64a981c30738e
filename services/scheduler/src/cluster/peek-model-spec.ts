import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { ModelSpec } from '@maas/protos';
import { InvalidArgumentError } from '@maas/errors';

/**
 * One step from a message down to its ModelSpec: a field number, and which occurrence counts when
 * the field comes more than once. The worker decodes with the generated decoder, for which the last
 * occurrence of a singular message field wins; of a repeated field the scheduler wants the first.
 */
export interface SpecStep {
  field: number;
  occurrence: 'first' | 'last';
}

/** A singular message field (model_spec): its last occurrence counts. */
export const specField = (field: number): SpecStep => ({ field, occurrence: 'last' });
/** The first element of a repeated message field (MultiInference's tasks). */
export const firstOf = (field: number): SpecStep => ({ field, occurrence: 'first' });

/**
 * Reads only the ModelSpec of an encoded message, skipping everything else (tensors above all), so
 * the front door can route without decoding inputs. Malformed bytes are the caller's error:
 * INVALID_ARGUMENT naming the method.
 */
export function peekModelSpec(method: string, bytes: Uint8Array, path: readonly SpecStep[]): ModelSpec | undefined {
  try {
    let current: Uint8Array | undefined = bytes;
    for (const step of path) {
      current = fieldBytes(current, step);
      if (!current) return undefined;
    }
    return ModelSpec.decode(current);
  } catch (error) {
    throw new InvalidArgumentError(`${method}: request is not a valid protobuf message: ${(error as Error).message}`);
  }
}

/** The bytes of a length-delimited field; other wire types under the number are skipped, as the generated decoder does. */
function fieldBytes(bytes: Uint8Array, step: SpecStep): Uint8Array | undefined {
  const reader = new BinaryReader(bytes);
  let found: Uint8Array | undefined;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === step.field && wireType === WireType.LengthDelimited) {
      found = reader.bytes();
      if (step.occurrence === 'first') return found;
    } else {
      reader.skip(wireType, field);
    }
  }
  return found;
}
