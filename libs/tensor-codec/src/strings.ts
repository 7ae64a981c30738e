import type { TensorProto } from '@maas/protos';
import { parseError } from './errors.js';

/**
 * onnxruntime string tensors take JS strings, so element bytes are decoded as UTF-8; bytes that
 * are not valid UTF-8 become U+FFFD (TF strings are arbitrary bytes, the runtime's are text).
 */
function utf8(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8', start, end);
}

/** DT_STRING tensor_content (tensor_coding.cc DecodeStringList): N varint32 lengths, then the bytes. */
export function decodeStringContent(content: Uint8Array, count: number, alias: string): string[] {
  // Every length takes at least one byte: refuse before sizing anything by `count`.
  if (content.byteLength < count) {
    throw parseError(alias, `string tensor_content has ${content.byteLength} bytes; expected at least ${count} (one length per element)`);
  }
  const lengths = new Array<number>(count);
  let pos = 0;
  let total = 0;
  for (let i = 0; i < count; i++) {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      if (shift > 28) throw parseError(alias, `string tensor_content length of element ${i} is longer than a varint32`);
      const byte = content[pos++];
      if (byte === undefined) throw parseError(alias, `string tensor_content ends inside the length of element ${i}; expected ${count} lengths`);
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
    }
    lengths[i] = value;
    total += value;
  }
  const remaining = content.byteLength - pos;
  if (total !== remaining) {
    throw parseError(alias, `string tensor_content lengths add up to ${total} bytes; expected them to equal the ${remaining} bytes that follow`);
  }
  const strings = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const end = pos + (lengths[i] as number);
    strings[i] = utf8(content, pos, end);
    pos = end;
  }
  return strings;
}

/** DT_STRING from string_val, with the same repeat-last rule as the numeric typed fields. */
export function decodeStringVal(proto: TensorProto, count: number): string[] {
  const values = proto.stringVal;
  const k = Math.min(values.length, count);
  const strings = new Array<string>(count);
  for (let i = 0; i < k; i++) {
    const bytes = values[i] as Uint8Array;
    strings[i] = utf8(bytes, 0, bytes.byteLength);
  }
  // A short list repeats its last value; an empty one gives empty strings.
  strings.fill(k > 0 ? (strings[k - 1] as string) : '', k);
  return strings;
}

const encoder = new TextEncoder();

/** Output strings go back as string_val UTF-8 bytes. */
export function encodeStrings(strings: readonly string[]): Uint8Array[] {
  return strings.map((s) => encoder.encode(s));
}
