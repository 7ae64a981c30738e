import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { ModelSpec } from '@maas/protos';
import { InvalidArgumentError } from '@maas/errors';

/**
 * Reads only the model_spec of an encoded request, skipping everything else (tensors above all),
 * so the front door can route without decoding inputs. `path` lists field numbers from the
 * message down to the ModelSpec: [1] for Predict/Classify/Regress/GetModelMetadata/GetModelStatus,
 * [1, 1] for MultiInference (first task's model_spec).
 */
export function peekModelSpec(bytes: Uint8Array, path: readonly number[]): ModelSpec | undefined {
  try {
    return peek(bytes, path);
  } catch (error) {
    throw new InvalidArgumentError(`request is not a valid protobuf message: ${(error as Error).message}`);
  }
}

function peek(bytes: Uint8Array, path: readonly number[]): ModelSpec | undefined {
  let reader = new BinaryReader(bytes);
  for (let depth = 0; depth < path.length; depth++) {
    let found: Uint8Array | undefined;
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === path[depth] && wireType === WireType.LengthDelimited) {
        found = reader.bytes();
        break;
      }
      reader.skip(wireType, field);
    }
    if (!found) return undefined;
    if (depth === path.length - 1) return ModelSpec.decode(found);
    reader = new BinaryReader(found);
  }
  return undefined;
}
