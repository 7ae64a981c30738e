import type { SignatureDef, TensorInfo, TensorProto } from '@maas/protos';
import { InvalidArgumentError, ServingError } from '@maas/errors';
import { DEFAULT_SIGNATURE } from '@maas/serving-api';
import { JsonCursor } from './json-cursor.js';
import { checkEnd, formatError, isBase64ObjectAt, openRootObject, truncateQuote } from './json-value.js';
import { TensorReader } from './json-to-tensor.js';

/** Row (`instances` → `predictions`) or columnar (`inputs` → `outputs`), shared/spec §7.3–7.4. */
export type PredictFormat = 'row' | 'columnar';

/** What a predict body asks for (TF's FillPredictRequestFromJson). */
export interface PredictJson {
  /** As sent ('' when absent). */
  signatureName: string;
  format: PredictFormat;
  inputs: Record<string, TensorProto>;
}

/** Bytes of JSON per element we expect when sizing a tensor's first buffer and the signature does not say. */
const BYTES_PER_ELEMENT_GUESS = 4;
/** The fewest bytes of JSON an element takes (a digit and a comma): no tensor in `bytes` has more than bytes / 2 + 1 elements. */
const MIN_BYTES_PER_ELEMENT = 2;

const shapeText = (shape: readonly number[]) => `[${shape.join(',')}]`;
const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A reader and the shape of its first row, per input alias. */
interface Column {
  reader: TensorReader;
  rowShape?: number[];
}

/** Re-raises an error of one `instances` element with TF's prefix, keeping its code (UNIMPLEMENTED stays 501). */
function inElement(prefix: string, error: unknown): never {
  if (!(error instanceof ServingError)) throw error;
  throw new ServingError(error.code, `${prefix} Error: INVALID_ARGUMENT: ${error.message}`);
}

function readRowValue(cursor: JsonCursor, column: Column): void {
  const shape = column.reader.read(cursor);
  const first = column.rowShape;
  if (!first) column.rowShape = shape;
  else if (product(first) !== product(shape)) throw new InvalidArgumentError(`Expecting tensor size: ${product(first)} but got: ${product(shape)}`);
  else if (shapeText(first) !== shapeText(shape)) throw new InvalidArgumentError(`Expecting shape ${shapeText(first)} but got: ${shapeText(shape)}`);
}

/** One object of `instances` naming every input (TF's FillTensorMapFromInstancesList, object case). */
function readNamedRow(cursor: JsonCursor, columns: Map<string, Column>, row: number): void {
  const start = cursor.pos;
  const seen = new Set<string>();
  cursor.pos++;
  if (cursor.peek() === 0x7d) cursor.pos++;
  else {
    do {
      const key = cursor.readKey();
      const prefix = `Failed to process element: ${row} key: ${key} of 'instances' list.`;
      const column = columns.get(key);
      try {
        if (!column) throw new InvalidArgumentError(`JSON object: does not have named input: ${key}`);
        if (seen.has(key)) throw new InvalidArgumentError(`JSON object: has named input ${key} more than once`);
        readRowValue(cursor, column);
      } catch (error) {
        inElement(prefix, error);
      }
      seen.add(key);
    } while (!cursor.endOfMember());
  }
  if (seen.size !== columns.size) {
    throw new InvalidArgumentError(
      `Failed to process element: ${row} of 'instances' list. JSON object: ${truncateQuote(cursor.text(start))} keys must be equal to: ${[...columns.keys()].sort().join(',')}`,
    );
  }
}

/**
 * Elements of one row of an input by its signature shape (every dim but the batch dim known), or
 * undefined. A row of a 1×224×224×3 image is then read into a buffer of exactly its size.
 */
function rowElements(info: TensorInfo): number | undefined {
  const dims = info.tensorShape?.unknownRank === false ? info.tensorShape.dim : undefined;
  if (!dims || dims.length === 0) return undefined;
  let elements = 1;
  for (let i = 1; i < dims.length; i++) {
    const size = Number(dims[i]!.size);
    if (!(size >= 0)) return undefined;
    elements *= size;
  }
  return elements;
}

/**
 * One reader per input alias, its first buffer sized for one row of the signature's shape where
 * that is known (more rows grow it by doubling), else for `bytes` of JSON spread over all
 * aliases. Never more than `bytes` can hold, whatever the signature claims.
 */
function columnsFor(signature: Record<string, TensorInfo>, bytes: number): Map<string, Column> {
  const aliases = Object.keys(signature);
  const most = bytes / MIN_BYTES_PER_ELEMENT + 1;
  const guess = bytes / BYTES_PER_ELEMENT_GUESS / Math.max(1, aliases.length);
  return new Map(
    aliases.map((alias) => {
      const info = signature[alias]!;
      const hint = Math.min(rowElements(info) || guess, most);
      return [alias, { reader: new TensorReader(info.dtype, hint) }];
    }),
  );
}

/** Row format: `instances` is a non-empty list of values (one input) or of objects naming every input. */
function readInstances(cursor: JsonCursor, signature: Record<string, TensorInfo>): Record<string, TensorProto> {
  const body = cursor.bytes;
  if (cursor.peek() !== 0x5b) throw formatError(body, "Excepting 'instances' to be an list/array");
  cursor.pos++;
  if (cursor.peek() === 0x5d) throw formatError(body, "No values in 'instances' array");
  const columns = columnsFor(signature, cursor.end - cursor.pos);
  const named = isElementObject(cursor);
  if (!named && columns.size > 1) {
    throw new InvalidArgumentError('instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map');
  }
  let rows = 0;
  for (;;) {
    const isObject = isElementObject(cursor);
    if (named && !isObject) throw new InvalidArgumentError(`Expecting object but got list at item ${rows} of input list`);
    if (!named && isObject) throw new InvalidArgumentError(`Expecting value/list but got object at item ${rows} of input list`);
    if (named) readNamedRow(cursor, columns, rows);
    else {
      try {
        readRowValue(cursor, columns.values().next().value!);
      } catch (error) {
        inElement(`Failed to process element: ${rows} of 'instances' list.`, error);
      }
    }
    rows++;
    const next = cursor.peek();
    cursor.pos++;
    if (next === 0x5d) break;
    if (next !== 0x2c) cursor.fail("Missing a comma or ']' after an array element.", cursor.pos - 1);
  }
  const inputs: Record<string, TensorProto> = {};
  for (const [alias, { reader, rowShape }] of columns) inputs[alias] = reader.toProto([rows, ...(rowShape ?? [])]);
  return inputs;
}

/** Columnar format: `inputs` is a value (one input) or an object with every input; extra keys are ignored. */
function readColumns(cursor: JsonCursor, signature: Record<string, TensorInfo>): Record<string, TensorProto> {
  const columns = columnsFor(signature, cursor.end - cursor.pos);
  const inputs: Record<string, TensorProto> = {};
  if (!isElementObject(cursor)) {
    if (columns.size > 1) {
      throw new InvalidArgumentError('inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map');
    }
    const [alias, { reader }] = columns.entries().next().value!;
    inputs[alias] = reader.toProto(reader.read(cursor));
    return inputs;
  }
  cursor.pos++;
  if (cursor.peek() === 0x7d) cursor.pos++;
  else {
    do {
      const key = cursor.readKey();
      const column = columns.get(key);
      // The first of duplicate keys wins (rapidjson's FindMember); unknown keys are skipped.
      if (column && !(key in inputs)) inputs[key] = column.reader.toProto(column.reader.read(cursor));
      else cursor.skipValue(2);
    } while (!cursor.endOfMember());
  }
  for (const alias of columns.keys()) {
    if (!(alias in inputs)) throw new InvalidArgumentError(`Missing named input: ${alias} in 'inputs' object.`);
  }
  return inputs;
}

/** An object that is not a {"b64": …} value (TF's IsElementObject). */
function isElementObject(cursor: JsonCursor): boolean {
  return cursor.peek() === 0x7b && !isBase64ObjectAt(cursor);
}

const TENSOR_KEYS = new Map<string, PredictFormat>([
  ['instances', 'row'],
  ['inputs', 'columnar'],
]);

/** Where the tensors of a body are, and (when read during the pass) what they were read as. */
interface TensorMember {
  format: PredictFormat;
  start: number;
  end: number;
  /** Set when read during the pass, with the signature named so far. */
  inputs?: Record<string, TensorProto>;
  readWith?: string;
}

function readTensors(cursor: JsonCursor, format: PredictFormat, signature: Record<string, TensorInfo>): Record<string, TensorProto> {
  return format === 'row' ? readInstances(cursor, signature) : readColumns(cursor, signature);
}

/**
 * Reads the tensors with the signature named so far. Its errors may come from the wrong
 * signature (a later signature_name), so on any error, or with no such signature yet, the value
 * is only located, to be read (and fail, if it does) once the name is final.
 */
function readEarly(cursor: JsonCursor, format: PredictFormat, signature: Record<string, TensorInfo> | undefined, name: string): Pick<TensorMember, 'inputs' | 'readWith'> {
  const start = cursor.pos;
  if (signature) {
    try {
      return { inputs: readTensors(cursor, format, signature), readWith: name };
    } catch (error) {
      if (!(error instanceof ServingError)) throw error;
      cursor.pos = start;
    }
  }
  cursor.skimValue();
  return {};
}

/**
 * A predict body converted with the model's signatures (all of them, from GetModelMetadata), in
 * one pass: `instances`/`inputs` are read straight into typed arrays with the signature named so
 * far (serving_default until a `signature_name` member is met). Only when `signature_name`
 * comes after the tensors and names another signature are they read a second time.
 */
export function predictFromJson(body: Buffer, signatures: Record<string, SignatureDef>): PredictJson {
  const cursor = openRootObject(body);
  let signatureName: string | undefined;
  let tensors: TensorMember | undefined;
  const inputsOf = (name: string) => {
    const inputs = signatures[name || DEFAULT_SIGNATURE]?.inputs;
    return inputs && Object.keys(inputs).length > 0 ? inputs : undefined;
  };
  if (cursor.peek() === 0x7d) cursor.pos++;
  else {
    do {
      const key = cursor.readKey();
      const format = TENSOR_KEYS.get(key);
      cursor.peek();
      const start = cursor.pos;
      if (key === 'signature_name' && signatureName === undefined) {
        if (cursor.peek() !== 0x22) throw formatError(body, "not formatted correctly. 'signature_name' key must be a string value.");
        signatureName = cursor.readString();
      } else if (format && tensors?.format !== format) {
        if (tensors) throw formatError(body, "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist ");
        const name = signatureName ?? '';
        const early = readEarly(cursor, format, inputsOf(name), name);
        tensors = { format, start, end: cursor.pos, ...early };
      } else {
        cursor.skipValue(1);
      }
    } while (!cursor.endOfMember());
  }
  checkEnd(cursor);
  const name = signatureName ?? '';
  if (!signatures[name || DEFAULT_SIGNATURE]) throw new InvalidArgumentError(`Serving signature name: "${name || DEFAULT_SIGNATURE}" not found in signature def`);
  const signature = inputsOf(name);
  if (!signature) throw new InvalidArgumentError(`Failed to get input map for signature: ${name || 'DEFAULT'}`);
  if (!tensors) throw new InvalidArgumentError("Missing 'inputs' or 'instances' key");
  const inputs =
    tensors.inputs && tensors.readWith === name ? tensors.inputs : readTensors(new JsonCursor(body, tensors.start, tensors.end), tensors.format, signature);
  return { signatureName: name, format: tensors.format, inputs };
}
