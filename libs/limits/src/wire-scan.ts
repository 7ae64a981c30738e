import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { InvalidArgumentError, ResourceExhaustedError } from '@maas/errors';
import { LIMIT_FLAGS, limitExceeded, type RequestLimits } from './request-limits.js';

/*
 * Limits checked on a request's encoded bytes, before it is decoded: only field tags and lengths
 * are read (length-delimited values are views into the request, packed arrays are skipped by
 * length), so a request over a limit is refused before anything proportional to it is allocated.
 * Field numbers are TF's (tensor.proto, tensor_shape.proto, predict.proto, input.proto, feature.proto).
 */

const DT_STRING = 7;

interface FieldVisitor {
  /** A length-delimited field (sub-message, bytes, string or packed array), as a view. */
  delimited?(field: number, value: Uint8Array): void;
  /** A varint field; the visitor reads it from `reader` or it is skipped. */
  varint?(field: number, reader: BinaryReader): boolean;
  /** A fixed32 field (an unpacked float). */
  fixed32?(field: number): void;
}

/** Visits each top-level field of one encoded message; throws on bytes that are not a message. */
function walk(bytes: Uint8Array, visitor: FieldVisitor): void {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (wireType === WireType.LengthDelimited && visitor.delimited) visitor.delimited(field, reader.bytes());
    else if (wireType === WireType.Varint && visitor.varint?.(field, reader)) continue;
    else {
      if (wireType === WireType.Bit32) visitor.fixed32?.(field);
      reader.skip(wireType, field);
    }
  }
}

/** Counts as it scans and refuses as soon as a limit is passed. */
class Tally {
  elements = 0n;

  constructor(private readonly limits: RequestLimits) {}

  addElements(count: bigint): void {
    this.elements += count;
    if (this.elements > BigInt(this.limits.maxRequestElements)) {
      throw limitExceeded(`Request has at least ${this.elements} tensor elements`, this.limits.maxRequestElements, LIMIT_FLAGS.maxRequestElements);
    }
  }

  checkString(bytes: number): void {
    if (bytes > this.limits.maxStringBytes) {
      throw limitExceeded(`Request has a string of ${bytes} bytes`, this.limits.maxStringBytes, LIMIT_FLAGS.maxStringBytes);
    }
  }
}

/** Elements a TensorShapeProto declares (1 for a scalar; negative sizes count 0 and are the codec's to refuse). */
function shapeElements(shape: Uint8Array): bigint {
  let count = 1n;
  walk(shape, {
    delimited: (field, dim) => {
      if (field !== 2) return;
      let size = 0n;
      walk(dim, {
        varint: (f, reader) => {
          if (f !== 1) return false;
          size = BigInt(reader.int64());
          return true;
        },
      });
      count *= size > 0n ? size : 0n;
    },
  });
  return count;
}

/** DT_STRING tensor_content: varint lengths (one per element) before the bytes; each length is checked. */
function scanStringContent(content: Uint8Array, elements: bigint, tally: Tally): void {
  const reader = new BinaryReader(content);
  const lengths = elements < BigInt(content.byteLength) ? Number(elements) : content.byteLength;
  for (let i = 0; i < lengths && reader.pos < reader.len; i++) tally.checkString(reader.uint32());
}

function scanTensor(bytes: Uint8Array, tally: Tally): void {
  let dtype = 0;
  let elements = 1n;
  let content: Uint8Array | undefined;
  walk(bytes, {
    varint: (field, reader) => {
      if (field !== 1) return false;
      dtype = reader.int32();
      return true;
    },
    delimited: (field, value) => {
      if (field === 2) elements = shapeElements(value);
      else if (field === 4) content = value;
      else if (field === 8) tally.checkString(value.byteLength);
    },
  });
  tally.addElements(elements);
  if (dtype === DT_STRING && content) scanStringContent(content, elements, tally);
}

/** ModelSpec: its version (2) is an Int64Value; the scheduler routes on it, so it must decode. */
function scanSpec(spec: Uint8Array): void {
  walk(spec, { delimited: (field, version) => field === 2 && walk(version, {}) });
}

/** PredictRequest: model_spec (1), inputs (2) a map of TensorProto (entry field 2). */
function scanPredict(bytes: Uint8Array, tally: Tally): void {
  walk(bytes, {
    delimited: (field, value) => {
      if (field === 1) scanSpec(value);
      else if (field === 2) walk(value, { delimited: (f, tensor) => f === 2 && scanTensor(tensor, tally) });
    },
  });
}

/** Values in one Feature: bytes_list (1), float_list (2), int64_list (3), each with `value` = 1. */
function featureValues(feature: Uint8Array, tally: Tally): bigint {
  let count = 0n;
  walk(feature, {
    delimited: (kind, list) =>
      walk(list, {
        delimited: (field, value) => {
          if (field !== 1) return;
          if (kind === 1) {
            tally.checkString(value.byteLength);
            count++;
          } else if (kind === 2) count += BigInt(value.byteLength >> 2);
          else if (kind === 3) count += BigInt(value.reduce((n, byte) => n + (byte < 0x80 ? 1 : 0), 0));
        },
        varint: (field) => {
          if (field === 1 && kind === 3) count++;
          return false;
        },
        fixed32: (field) => {
          if (field === 1 && kind === 2) count++;
        },
      }),
  });
  return count;
}

/** Feature values of one Example: features (1) is a map of Feature (entry field 2). */
function exampleValues(example: Uint8Array, tally: Tally): bigint {
  let count = 0n;
  walk(example, {
    delimited: (field, features) => {
      if (field !== 1) return;
      walk(features, {
        delimited: (f, entry) => f === 1 && walk(entry, { delimited: (e, feature) => e === 2 && (count += featureValues(feature, tally)) }),
      });
    },
  });
  return count;
}

/** tensorflow.serving.Input: example_list (1) or example_list_with_context (2, context merged into each example). */
function scanInput(input: Uint8Array, tally: Tally): void {
  walk(input, {
    delimited: (kind, list) => {
      let examples = 0n;
      let context = 0n;
      walk(list, {
        delimited: (field, example) => {
          if (field === 1) {
            examples++;
            tally.addElements(exampleValues(example, tally));
          } else if (field === 2 && kind === 2) context = exampleValues(example, tally);
        },
      });
      tally.addElements(context * (examples > 0n ? examples : 1n));
    },
  });
}

/** Classification and Regression requests: model_spec (1), Input (2). */
function scanExampleRequest(bytes: Uint8Array, tally: Tally): void {
  walk(bytes, {
    delimited: (field, value) => {
      if (field === 1) scanSpec(value);
      else if (field === 2) scanInput(value, tally);
    },
  });
}

/** MultiInferenceRequest: tasks (1), each with a model_spec (1); Input (2). */
function scanMultiInference(bytes: Uint8Array, tally: Tally): void {
  walk(bytes, {
    delimited: (field, value) => {
      if (field === 1) walk(value, { delimited: (f, spec) => f === 1 && scanSpec(spec) });
      else if (field === 2) scanInput(value, tally);
    },
  });
}

/** GetModelMetadata carries nothing the limits count; its framing and model_spec are still checked before it is forwarded. */
function scanMetadataRequest(bytes: Uint8Array): void {
  walk(bytes, { delimited: (field, spec) => field === 1 && scanSpec(spec) });
}

const SCANNERS: Record<string, (bytes: Uint8Array, tally: Tally) => void> = {
  '/tensorflow.serving.PredictionService/Predict': scanPredict,
  '/tensorflow.serving.PredictionService/GetModelMetadata': scanMetadataRequest,
  '/tensorflow.serving.PredictionService/Classify': scanExampleRequest,
  '/tensorflow.serving.PredictionService/Regress': scanExampleRequest,
  '/tensorflow.serving.PredictionService/MultiInference': scanMultiInference,
};

/** Whether requests of this method carry tensors or examples that the limits apply to. */
export function isScreenedMethod(path: string): boolean {
  return path in SCANNERS;
}

/**
 * Checks an encoded request of `path` against the limits without decoding it. Throws
 * ResourceExhaustedError naming the limit, or InvalidArgumentError naming the method for bytes
 * whose framing is broken where the scan reads (the same answer the method's decoder gives, given
 * here before a forwarding hop routes on a request that would not decode).
 */
export function screenRequestBytes(path: string, bytes: Uint8Array, limits: RequestLimits): void {
  const scan = SCANNERS[path];
  if (!scan) return;
  try {
    scan(bytes, new Tally(limits));
  } catch (error) {
    if (error instanceof ResourceExhaustedError) throw error;
    throw new InvalidArgumentError(`${path}: request is not a valid protobuf message: ${(error as Error).message}`);
  }
}
