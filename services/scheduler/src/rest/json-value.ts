import { InvalidArgumentError } from '@maas/errors';
import { JsonCursor, parseError } from './json-cursor.js';

/**
 * A small JSON tree for the parts of a request that are not tensors (signature_name, Examples,
 * b64 objects, error messages). Numbers keep their source text so integers beyond 2^53 stay exact
 * and error messages quote what the client sent.
 */
export class JsonNumber {
  constructor(
    readonly text: string,
    readonly value: number,
    /** No fraction or exponent in the token. */
    readonly isInteger: boolean,
  ) {}
}

/** Members in document order; duplicate keys are kept, `get` returns the first (rapidjson's FindMember). */
export class JsonObject {
  constructor(readonly entries: ReadonlyArray<readonly [string, JsonValue]>) {}

  get(key: string): JsonValue | undefined {
    for (const [name, value] of this.entries) if (name === key) return value;
    return undefined;
  }
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;

/** Parses the value at the cursor into a tree. */
export function parseValue(cursor: JsonCursor, depth = 0): JsonValue {
  const c = cursor.peek();
  switch (c) {
    case 0x22:
      return cursor.readString();
    case 0x5b: {
      cursor.enter(depth);
      cursor.pos++;
      const items: JsonValue[] = [];
      if (cursor.peek() === 0x5d) {
        cursor.pos++;
        return items;
      }
      for (;;) {
        items.push(parseValue(cursor, depth + 1));
        const next = cursor.peek();
        cursor.pos++;
        if (next === 0x5d) return items;
        if (next !== 0x2c) cursor.fail("Missing a comma or ']' after an array element.", cursor.pos - 1);
      }
    }
    case 0x7b: {
      cursor.enter(depth);
      cursor.pos++;
      const entries: Array<[string, JsonValue]> = [];
      if (cursor.peek() === 0x7d) {
        cursor.pos++;
        return new JsonObject(entries);
      }
      do entries.push([cursor.readKey(), parseValue(cursor, depth + 1)]);
      while (!cursor.endOfMember());
      return new JsonObject(entries);
    }
    case 0x74:
    case 0x66:
    case 0x6e:
      return cursor.readLiteral();
    case -1:
      return cursor.fail('Invalid value.');
    default: {
      const value = cursor.readNumber();
      return new JsonNumber(cursor.text(cursor.numberStart), value, cursor.numberIsInteger);
    }
  }
}

/** The empty-body and trailing-content checks every document gets (TF's ParseJson). */
function checkDocument(body: Buffer): JsonCursor {
  if (body.length === 0) throw new InvalidArgumentError('JSON Parse error: The document is empty');
  const cursor = new JsonCursor(body);
  if (cursor.peek() === -1) throw parseError('The document is empty.', cursor.pos);
  return cursor;
}

/** After the root value: nothing else may follow. */
export function checkEnd(cursor: JsonCursor): void {
  if (cursor.peek() !== -1) cursor.fail('The document root must not be followed by other values.');
}

/** A whole request body as a tree. */
export function parseJson(body: Buffer): JsonValue {
  const cursor = checkDocument(body);
  const value = parseValue(cursor);
  checkEnd(cursor);
  return value;
}

/**
 * A cursor inside the top-level object of a request, just after its `{`. A root that is not an
 * object fails as TF's "Is not object" (after the whole document is checked, as TF parses first).
 */
export function openRootObject(body: Buffer): JsonCursor {
  const cursor = checkDocument(body);
  if (cursor.peek() !== 0x7b) {
    cursor.skipValue();
    checkEnd(cursor);
    throw formatError(body, 'Is not object');
  }
  cursor.pos++;
  return cursor;
}

/** TF's JsonTypeString. */
export function jsonTypeName(value: JsonValue): string {
  if (value === null) return 'Null';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return 'String';
  if (value instanceof JsonNumber) return 'Number';
  if (Array.isArray(value)) return 'Array';
  return 'Object';
}

/** Compact JSON text of a tree (numbers as sent), for error messages. */
export function stringifyJson(value: JsonValue): string {
  if (value instanceof JsonNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(stringifyJson).join(',')}]`;
  if (value instanceof JsonObject) return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${stringifyJson(v)}`).join(',')}}`;
  return JSON.stringify(value);
}

/** Long request text quoted in messages is cut here. */
export const MAX_QUOTED_CHARS = 256;

export function truncateQuote(text: string): string {
  return text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}...` : text;
}

/** TF's FormatError: "JSON Value: <the request, truncated> <detail>". */
export function formatError(body: Buffer, detail: string): InvalidArgumentError {
  const text = body.toString('utf8', 0, Math.min(body.length, MAX_QUOTED_CHARS * 4)).trim();
  return new InvalidArgumentError(`JSON Value: ${truncateQuote(text)} ${detail}`);
}

/** A {"b64": "<string>"} object: exactly that one key, with a string value (TF's IsValBase64Object). */
export function isBase64Object(value: JsonValue): value is JsonObject {
  return value instanceof JsonObject && value.entries.length === 1 && value.entries[0]![0] === 'b64' && typeof value.entries[0]![1] === 'string';
}

const BASE64 = /^[A-Za-z0-9+/]*$/;

/** Strict standard base64 (padding optional), as absl::Base64Unescape; Node's decoder alone skips bad characters. */
export function decodeBase64(text: string): Uint8Array {
  const unpadded = text.endsWith('==') ? text.slice(0, -2) : text.endsWith('=') ? text.slice(0, -1) : text;
  const padded = unpadded.length !== text.length;
  if (!BASE64.test(unpadded) || unpadded.length % 4 === 1 || (padded && text.length % 4 !== 0)) {
    throw new InvalidArgumentError('Unable to base64 decode');
  }
  return Buffer.from(unpadded, 'base64');
}

/** The decoded bytes of a b64 object, or TF's Base64FormatError. */
export function base64ObjectBytes(value: JsonValue): Uint8Array {
  if (!isBase64Object(value)) throw new InvalidArgumentError(`JSON Value: ${truncateQuote(stringifyJson(value))} not formatted correctly for base64 data`);
  return decodeBase64(value.entries[0]![1] as string);
}

/** Whether the object at the cursor is a {"b64": "<string>"} value; the cursor does not move. */
export function isBase64ObjectAt(cursor: JsonCursor): boolean {
  const start = cursor.pos;
  try {
    cursor.pos++;
    if (cursor.peek() !== 0x22 || cursor.readKey() !== 'b64' || cursor.peek() !== 0x22) return false;
    cursor.readStringBytes();
    return cursor.peek() === 0x7d;
  } catch {
    return false;
  } finally {
    cursor.pos = start;
  }
}
