import { TextFormatError } from './errors.js';
import { parseTextFormat, type FieldNode, type MessageNode, type ScalarNode, type ValueNode } from './parser.js';

/**
 * A small, table-driven description of protobuf messages, just enough to map a parsed text-format
 * tree onto ts-proto objects (camelCase keys, int64 as bigint, wrappers as `T | undefined`, maps as
 * plain objects, proto3 defaults for absent fields).
 */

export type ScalarType = 'string' | 'bytes' | 'bool' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'double' | 'float';

export interface EnumSchema {
  readonly fullName: string;
  /** Value name -> number. */
  readonly values: Readonly<Record<string, number>>;
}

export type FieldType =
  | { readonly kind: 'scalar'; readonly type: ScalarType }
  | { readonly kind: 'enum'; readonly schema: EnumSchema }
  /** `schema` is a thunk so schemas may refer to each other in any order. */
  | { readonly kind: 'message'; readonly schema: () => MessageSchema }
  /** google.protobuf.*Value: a message `{ value: ... }` in text, the bare scalar (or undefined) in ts-proto. */
  | { readonly kind: 'wrapper'; readonly type: ScalarType }
  /** `map<string, V>`: repeated `{ key: ... value: ... }` entries in text, an object in ts-proto. */
  | { readonly kind: 'map'; readonly entryName: string; readonly value: ScalarType }
  /**
   * google.protobuf.Any. Accepted as `{ type_url: "..." value: "..." }` or in the expanded form
   * `{ [type.googleapis.com/pkg.Msg] { ... } }`; the expanded body is only syntax-checked (its type is
   * not known here) and recorded as `{ typeUrl, value: empty bytes }`.
   */
  | { readonly kind: 'any' };

export interface FieldSchema<T = Record<string, unknown>> {
  /** The proto field name, as written in text format. */
  readonly name: string;
  /** The ts-proto property name. */
  readonly key: keyof T & string;
  readonly type: FieldType;
  readonly repeated?: boolean;
  /** Name of the oneof the field belongs to (at most one member may be set). */
  readonly oneof?: string;
  /** proto3 `optional` scalar: undefined when absent instead of the zero value. */
  readonly optional?: boolean;
}

export interface MessageSchema<T = unknown> {
  readonly fullName: string;
  readonly fields: readonly FieldSchema[];
  /** Phantom member that carries the ts-proto type; never set. */
  readonly __type?: T;
}

/** Declares a message schema; `key` is checked against the ts-proto type `T`. */
export function messageSchema<T>(fullName: string, fields: ReadonlyArray<FieldSchema<T>>): MessageSchema<T> {
  const names = new Set<string>();
  for (const field of fields) {
    if (names.has(field.name)) throw new Error(`schema ${fullName} declares field ${field.name} twice`);
    names.add(field.name);
  }
  return { fullName, fields: fields as unknown as readonly FieldSchema[] };
}

export const scalar = (type: ScalarType): FieldType => ({ kind: 'scalar', type });
export const enumOf = (schema: EnumSchema): FieldType => ({ kind: 'enum', schema });
export const message = (schema: () => MessageSchema): FieldType => ({ kind: 'message', schema });
export const wrapper = (type: ScalarType): FieldType => ({ kind: 'wrapper', type });
export const mapOf = (entryName: string, value: ScalarType): FieldType => ({ kind: 'map', entryName, value });
export const any: FieldType = { kind: 'any' };

const WRAPPER_NAMES: Readonly<Record<ScalarType, string>> = {
  string: 'google.protobuf.StringValue',
  bytes: 'google.protobuf.BytesValue',
  bool: 'google.protobuf.BoolValue',
  int32: 'google.protobuf.Int32Value',
  uint32: 'google.protobuf.UInt32Value',
  int64: 'google.protobuf.Int64Value',
  uint64: 'google.protobuf.UInt64Value',
  double: 'google.protobuf.DoubleValue',
  float: 'google.protobuf.FloatValue',
};

const wrapperSchemas = new Map<ScalarType, MessageSchema>();
function wrapperSchema(type: ScalarType): MessageSchema {
  let schema = wrapperSchemas.get(type);
  if (schema === undefined) {
    schema = messageSchema<{ value: unknown }>(WRAPPER_NAMES[type], [{ name: 'value', key: 'value', type: scalar(type) }]);
    wrapperSchemas.set(type, schema);
  }
  return schema;
}

const INTEGER_RANGES: Readonly<Record<'int32' | 'uint32' | 'int64' | 'uint64', readonly [bigint, bigint]>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

/** Parses text format and maps it onto `schema`, throwing TextFormatError for syntax and schema errors. */
export function parseMessage<T>(text: string, schema: MessageSchema<T>): T {
  return decodeMessage(parseTextFormat(text), schema) as T;
}

/** The ts-proto object for a message with no fields set. */
export function defaultMessage<T>(schema: MessageSchema<T>): T {
  const out: Record<string, unknown> = {};
  for (const field of schema.fields) out[field.key] = defaultValue(field);
  return out as T;
}

function defaultValue(field: FieldSchema): unknown {
  if (field.repeated) return [];
  const type = field.type;
  switch (type.kind) {
    case 'map':
      return {};
    case 'message':
    case 'wrapper':
    case 'any':
      return undefined;
    case 'enum':
      return field.optional || field.oneof ? undefined : 0;
    case 'scalar':
      return field.optional || field.oneof ? undefined : zeroOf(type.type);
  }
}

function zeroOf(type: ScalarType): unknown {
  switch (type) {
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    case 'bool':
      return false;
    case 'int64':
    case 'uint64':
      return 0n;
    default:
      return 0;
  }
}

/** Maps one parsed message onto `schema`. */
export function decodeMessage(node: MessageNode, schema: MessageSchema): Record<string, unknown> {
  const out = defaultMessage(schema) as Record<string, unknown>;
  const byName = new Map(schema.fields.map((f) => [f.name, f]));
  const seen = new Map<string, FieldNode>();
  const oneofs = new Map<string, FieldNode>();
  for (const field of node.fields) {
    const fieldSchema = field.extension ? undefined : byName.get(field.name);
    if (fieldSchema === undefined) {
      const shown = field.extension ? `[${field.name}]` : `"${field.name}"`;
      throw new TextFormatError(field.pos, `message type "${schema.fullName}" has no field named ${shown}`);
    }
    const many = fieldSchema.repeated === true || fieldSchema.type.kind === 'map';
    if (!many) {
      if (field.list) {
        throw new TextFormatError(field.pos, `field "${field.name}" of message type "${schema.fullName}" is not repeated, so it cannot take a list`);
      }
      if (seen.has(field.name)) {
        throw new TextFormatError(field.pos, `non-repeated field "${field.name}" of message type "${schema.fullName}" is specified multiple times`);
      }
      seen.set(field.name, field);
    }
    if (fieldSchema.oneof !== undefined) {
      const other = oneofs.get(fieldSchema.oneof);
      if (other !== undefined && other.name !== field.name) {
        throw new TextFormatError(
          field.pos,
          `field "${field.name}" is specified along with field "${other.name}", another member of oneof "${fieldSchema.oneof}" of message type "${schema.fullName}"`,
        );
      }
      oneofs.set(fieldSchema.oneof, field);
    }
    const context = `field "${field.name}" of message type "${schema.fullName}"`;
    if (fieldSchema.type.kind === 'map') {
      const map = out[fieldSchema.key] as Record<string, unknown>;
      for (const value of field.values) {
        const entry = decodeMapEntry(value, fieldSchema.type.entryName, fieldSchema.type.value, context);
        // defineProperty, not assignment, so a key such as "__proto__" becomes an ordinary entry.
        Object.defineProperty(map, entry.key, { value: entry.value, enumerable: true, writable: true, configurable: true });
      }
    } else if (many) {
      const list = out[fieldSchema.key] as unknown[];
      for (const value of field.values) list.push(decodeValue(value, fieldSchema.type, context));
    } else {
      out[fieldSchema.key] = decodeValue(field.values[0] as ValueNode, fieldSchema.type, context);
    }
  }
  return out;
}

function describeValue(value: ValueNode): string {
  switch (value.kind) {
    case 'message':
      return 'a message';
    case 'string':
      return `string ${JSON.stringify(value.value ?? '<bytes>')}`;
    case 'number':
      return `number ${value.negative ? '-' : ''}${value.text}`;
    case 'bool':
    case 'identifier':
      return `identifier ${'negative' in value && value.negative ? '-' : ''}${value.text}`;
  }
}

function wrongKind(value: ValueNode, expected: string, context: string): never {
  throw new TextFormatError(value.pos, `invalid value for ${context}: expected ${expected} but found ${describeValue(value)}`);
}

function decodeValue(value: ValueNode, type: FieldType, context: string): unknown {
  switch (type.kind) {
    case 'scalar':
      return decodeScalar(value, type.type, context);
    case 'enum':
      return decodeEnum(value, type.schema, context);
    case 'message':
      if (value.kind !== 'message') wrongKind(value, `a message of type "${type.schema().fullName}" in '{ }'`, context);
      return decodeMessage(value, type.schema());
    case 'wrapper': {
      const name = WRAPPER_NAMES[type.type];
      if (value.kind !== 'message') wrongKind(value, `a message of type "${name}" such as '{ value: ... }'`, context);
      return decodeMessage(value, wrapperSchema(type.type))['value'];
    }
    case 'any':
      if (value.kind !== 'message') wrongKind(value, `a message of type "google.protobuf.Any" in '{ }'`, context);
      return decodeAny(value);
    case 'map':
      throw new Error('map values are decoded by decodeMapEntry');
  }
}

function decodeMapEntry(value: ValueNode, entryName: string, valueType: ScalarType, context: string): { key: string; value: unknown } {
  if (value.kind !== 'message') wrongKind(value, `a map entry such as '{ key: ... value: ... }'`, context);
  const entry = decodeMessage(
    value,
    messageSchema<{ key: string; value: unknown }>(entryName, [
      { name: 'key', key: 'key', type: scalar('string') },
      { name: 'value', key: 'value', type: scalar(valueType) },
    ]),
  );
  return { key: entry['key'] as string, value: entry['value'] };
}

const ANY_SCHEMA = messageSchema<{ typeUrl: string; value: Uint8Array }>('google.protobuf.Any', [
  { name: 'type_url', key: 'typeUrl', type: scalar('string') },
  { name: 'value', key: 'value', type: scalar('bytes') },
]);

function decodeAny(node: MessageNode): { typeUrl: string; value: Uint8Array } {
  const expanded = node.fields.filter((f) => f.extension);
  const first = expanded[0];
  if (first === undefined) return decodeMessage(node, ANY_SCHEMA) as { typeUrl: string; value: Uint8Array };
  const second = node.fields.find((f) => f !== first);
  if (second !== undefined) {
    throw new TextFormatError(second.pos, 'google.protobuf.Any in expanded form ([type_url] { ... }) must have exactly one field');
  }
  if (!first.name.includes('/')) {
    throw new TextFormatError(first.pos, `expanded google.protobuf.Any needs a type URL such as [type.googleapis.com/${first.name}]`);
  }
  const body = first.values[0];
  if (first.list || body === undefined || body.kind !== 'message') {
    throw new TextFormatError(first.pos, `expanded google.protobuf.Any [${first.name}] must be followed by a message in '{ }'`);
  }
  return { typeUrl: first.name, value: new Uint8Array(0) };
}

function decodeEnum(value: ValueNode, schema: EnumSchema, context: string): number {
  if ((value.kind === 'identifier' && !value.negative) || value.kind === 'bool') {
    if (!Object.hasOwn(schema.values, value.text)) {
      throw new TextFormatError(value.pos, `unknown value "${value.text}" for enum "${schema.fullName}" in ${context}`);
    }
    return schema.values[value.text] as number;
  }
  if (value.kind === 'number' && typeof value.value === 'bigint') {
    const number = Number(value.negative ? -value.value : value.value);
    if (!Object.values(schema.values).includes(number)) {
      throw new TextFormatError(value.pos, `unknown value ${value.negative ? '-' : ''}${value.text} for enum "${schema.fullName}" in ${context}`);
    }
    return number;
  }
  wrongKind(value, `an enum value of "${schema.fullName}"`, context);
}

function decodeScalar(value: ValueNode, type: ScalarType, context: string): unknown {
  switch (type) {
    case 'string':
      if (value.kind !== 'string') wrongKind(value, 'a string', context);
      if (value.value === undefined) throw new TextFormatError(value.pos, `invalid value for ${context}: string is not valid UTF-8`);
      return value.value;
    case 'bytes':
      if (value.kind !== 'string') wrongKind(value, 'a string', context);
      return value.bytes;
    case 'bool':
      if (value.kind === 'bool') return value.value;
      if (value.kind === 'number' && !value.negative && (value.value === 0n || value.value === 1n)) return value.value === 1n;
      wrongKind(value, 'a bool (true, false, 1 or 0)', context);
    case 'int32':
    case 'uint32':
    case 'int64':
    case 'uint64': {
      if (value.kind !== 'number' || typeof value.value !== 'bigint') wrongKind(value, `an integer (${type})`, context);
      const integer = value.negative ? -value.value : value.value;
      const [min, max] = INTEGER_RANGES[type];
      if (integer < min || integer > max) {
        throw new TextFormatError(value.pos, `invalid value for ${context}: ${value.negative ? '-' : ''}${value.text} is out of range for ${type}`);
      }
      return type === 'int64' || type === 'uint64' ? integer : Number(integer);
    }
    case 'double':
    case 'float': {
      let number: number;
      if (value.kind === 'number') {
        number = typeof value.value === 'bigint' ? Number(value.value) : value.value;
        if (value.negative) number = -number;
      } else if (value.kind === 'identifier' && /^(inf|infinity|nan)$/i.test(value.text)) {
        number = /^nan$/i.test(value.text) ? NaN : value.negative ? -Infinity : Infinity;
      } else {
        wrongKind(value, `a number (${type})`, context);
      }
      return type === 'float' ? Math.fround(number) : number;
    }
  }
}
