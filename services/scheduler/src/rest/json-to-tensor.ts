import { DataType, TensorProto } from '@maas/protos';
import { InternalError, InvalidArgumentError, UnimplementedError } from '@maas/errors';
import { MAX_RANK, NOT_HANDLED, OUT_OF_ROOM, numberLists, type NumberLists } from '@maas/json-number-lists';
import { ARRAY_TYPES, dataTypeName, ortTypeForDataType, type FixedWidthType, type NumericArray } from '@maas/tensor-codec';
import { INT64_MAX, INT64_MIN, UINT64_MAX } from './int64.js';
import { MAX_DEPTH, POW10, type JsonCursor } from './json-cursor.js';
import { base64ObjectBytes, jsonTypeName, parseValue, stringifyJson, truncateQuote } from './json-value.js';

/**
 * How JSON values become elements of each dtype (TF's AddValueToTensor, shared/spec §7.3). Dtypes
 * missing here (half, bfloat16, complex, uint16, …) are answered UNIMPLEMENTED as TF does.
 */
type Kind = 'float' | 'int32' | 'int64' | 'uint32' | 'uint64' | 'bool' | 'string';

const KINDS = new Map<DataType, Kind>([
  [DataType.DT_FLOAT, 'float'],
  [DataType.DT_DOUBLE, 'float'],
  [DataType.DT_INT8, 'int32'],
  [DataType.DT_INT16, 'int32'],
  [DataType.DT_INT32, 'int32'],
  [DataType.DT_UINT8, 'int32'],
  [DataType.DT_INT64, 'int64'],
  [DataType.DT_UINT32, 'uint32'],
  [DataType.DT_UINT64, 'uint64'],
  [DataType.DT_BOOL, 'bool'],
  [DataType.DT_STRING, 'string'],
]);

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;
const TWO_32 = 2 ** 32;

/**
 * Up to this many digits a decimal's mantissa is exact in a double, so mantissa / 10^k (k <= 22)
 * is the correctly rounded value JSON.parse gives (Clinger's fast path).
 */
const EXACT_DIGITS = 15;

/** Bound on the relative error of a 16–19 digit mantissa summed in doubles, then scaled by one 10^k (under 10·2^-53), with room. */
const SLACK = 2 ** -49;

/**
 * Whether an approximate value `v` (within SLACK of the decimal) rounds to the same float32 as
 * the decimal's correctly rounded double does: true when both ends of v ± SLACK round to one
 * float (fround is monotonic). Float32 data printed as doubles (16–17 digits) nearly always
 * passes; a value that close to a rounding midpoint goes to readNumber, which is exact.
 */
function float32Settled(v: number): boolean {
  return Math.fround(v * (1 - SLACK)) === Math.fround(v * (1 + SLACK));
}

/** Nonzero unless all four bytes of a little-endian word are ASCII digits. */
function notDigits(word: number): number {
  return ((word & 0xf0f0f0f0) ^ 0x30303030) | (((word + 0x06060606) & 0xf0f0f0f0) ^ 0x30303030);
}

/** The number four ASCII digits spell (first byte most significant), for a word notDigits passed. */
function fourDigits(word: number): number {
  const values = word - 0x30303030;
  const pairs = values * 10 + (values >>> 8); // bytes 0 and 2: the two 2-digit numbers
  return (pairs & 0xff) * 100 + ((pairs >>> 16) & 0xff);
}

type NumberArray = Exclude<NumericArray, BigInt64Array | BigUint64Array>;

const invalid = (message: string) => new InvalidArgumentError(message);

/** The native reader's answer: [rank, size0, size1, ...]. */
const nativeShape = new Int32Array(MAX_RANK + 1);

/**
 * Reads JSON values of one tensor (a scalar or rectangular nested lists) straight into a growing
 * typed array of the signature's dtype: no JS value per element. Numeric data ends up as
 * tensor_content (little-endian, the host order); strings and bools go in the typed fields. One
 * reader may read several values (the rows of `instances`), which are stacked.
 */
export class TensorReader {
  private readonly kind: Kind | undefined;
  private readonly bytesPerElement: number;
  private readonly arrayType: FixedWidthType | undefined;
  private buffer: ArrayBuffer;
  private numbers: NumberArray | undefined;
  /** int64/uint64 storage: the 64-bit view, and a 32-bit view for writing safe integers without BigInt. */
  private big: BigInt64Array | BigUint64Array | undefined;
  private words: Uint32Array | undefined;
  private readonly strings: Uint8Array[] = [];
  private readonly bools: boolean[] = [];
  private capacity: number;
  /** Elements read so far, over every value. */
  count = 0;
  /** The value plainNumber() read last. */
  private plain = 0;

  constructor(
    readonly dtype: DataType,
    /** Expected element count, to size the first buffer (it grows by doubling). */
    sizeHint = 16,
    /** Reads float lists natively when built; null (or what it leaves) read() reads in JavaScript. */
    private readonly native: NumberLists | null = numberLists ?? null,
  ) {
    this.kind = KINDS.get(dtype);
    const ortType = this.kind === 'string' || this.kind === 'bool' || this.kind === undefined ? undefined : ortTypeForDataType(dtype);
    this.arrayType = ortType as FixedWidthType | undefined;
    this.bytesPerElement = this.arrayType ? ARRAY_TYPES[this.arrayType].BYTES_PER_ELEMENT : 0;
    this.capacity = this.arrayType ? Math.max(16, Math.ceil(sizeHint)) : 0;
    this.buffer = new ArrayBuffer(this.capacity * this.bytesPerElement);
    this.makeViews();
  }

  private makeViews(): void {
    if (!this.arrayType) return;
    if (this.kind === 'int64' || this.kind === 'uint64') {
      this.big = this.kind === 'int64' ? new BigInt64Array(this.buffer) : new BigUint64Array(this.buffer);
      this.words = new Uint32Array(this.buffer);
    } else {
      this.numbers = new ARRAY_TYPES[this.arrayType](this.buffer, 0, this.capacity) as NumberArray;
    }
  }

  /** Doubles the element store, or more if `atLeast` elements are to fit. */
  private grow(atLeast = 0): void {
    const capacity = Math.max(this.capacity * 2, atLeast);
    const next = new ArrayBuffer(capacity * this.bytesPerElement);
    new Uint8Array(next).set(new Uint8Array(this.buffer, 0, this.count * this.bytesPerElement));
    this.buffer = next;
    this.capacity = capacity;
    this.makeViews();
  }

  /**
   * float32/float64 values that are rectangular non-empty lists of plain numbers (an image, an
   * embedding) through the native reader: its shape, or undefined for anything else, which read()
   * then reads with TF's rules and messages.
   */
  private readNatively(cursor: JsonCursor): number[] | undefined {
    for (;;) {
      const next = this.native!.readLists(cursor.bytes, cursor.pos, cursor.end, this.numbers as Float32Array | Float64Array, this.count, nativeShape);
      if (next === NOT_HANDLED) return undefined;
      const dims = Array.from(nativeShape.subarray(1, 1 + nativeShape[0]!));
      const elements = dims.reduce((a, b) => a * b, 1);
      if (next === OUT_OF_ROOM) {
        this.grow(this.count + elements);
        continue;
      }
      this.count += elements;
      cursor.pos = next;
      return dims;
    }
  }

  /**
   * Reads one value at the cursor (a scalar or rectangular nested lists), appending its elements;
   * returns its shape ([] for a scalar). This is TF's GetDenseTensorShape + FillTensorProto in one
   * pass: the size at each level comes from the first list there, the rank from the first scalar
   * (or first empty list), and every other list must match. Iterative, with the element loop
   * inlined, because it runs once per tensor element.
   */
  read(cursor: JsonCursor): number[] {
    if (this.kind === 'float' && this.native) {
      const dims = this.readNatively(cursor);
      if (dims) return dims;
    }
    const b = cursor.bytes;
    const end = cursor.end;
    const fastFloats = this.kind === 'float';
    const maxDigits = this.dtype === DataType.DT_FLOAT ? 19 : 15;
    /** Per depth: the size lists there must have (-1 until the first one closes), and the open list's count. */
    const sizes: number[] = [];
    const counts: number[] = [];
    let rank = -1;
    let depth = 0;
    let p = cursor.pos;
    // The element store in locals (written back before anything else may use or grow it).
    let numbers = this.numbers!;
    let count = this.count;
    let capacity = this.capacity;
    // The last closing bracket or brace of the range: every number scan of the innermost-list
    // loop stops there at the latest, so that loop needs a bounds check per element, not per byte.
    let guard = end - 1;
    while (guard >= p && b[guard] !== 0x5d && b[guard] !== 0x7d) guard--;
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (;;) {
      // At a value at `depth`.
      let c = -1;
      while (p < end && ((c = b[p]!) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) p++;
      if (p >= end) c = -1;
      if (c === 0x5b) {
        if (rank >= 0 && depth >= rank) throw invalid(`Encountered list at unexpected level: ${depth} expected < ${rank}`);
        if (depth >= MAX_DEPTH) cursor.fail(`Nesting deeper than ${MAX_DEPTH} levels.`, p);
        if (sizes.length === depth) sizes.push(-1);
        counts[depth] = 0;
        p++;
        while (p < end && ((c = b[p]!) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) p++;
        if (p >= end || b[p] !== 0x5d) {
          if (sizes[depth] === 0) {
            cursor.pos = p;
            this.sizeError(this.countRest(cursor, depth), depth, 0);
          }
          const list = depth++;
          c = b[p]!;
          if (!fastFloats || !(c === 0x2d || (c >= 0x30 && c <= 0x39)) || (rank >= 0 && rank !== depth)) continue;
          // An innermost list of numbers (its first element fixes the rank if nothing has yet):
          // decimals whose value is exact in arithmetic (Clinger's fast path, or float32Settled)
          // are read in this loop, straight into the array, with no bounds check per byte (see
          // `guard`). Anything else leaves the rest of the list to the general path below, from
          // the element it stopped at.
          rank = depth;
          let expected = sizes[list]!;
          let n = 0;
          let closed = false;
          // One pass per innermost list; a sibling list that follows (`],[`) continues here too.
          for (;;) {
            while (p < guard) {
              let q = p;
              c = b[q]!;
              const negative = c === 0x2d;
              if (negative) c = b[++q]!;
              let digit = c - 0x30;
              if (digit >>> 0 > 9) break;
              let mantissa = digit;
              const first = q;
              c = b[++q]!;
              if (mantissa !== 0) {
                while ((digit = c - 0x30) >>> 0 <= 9) {
                  mantissa = mantissa * 10 + digit;
                  c = b[++q]!;
                }
              }
              // Significant digits (zeros before the first nonzero digit are none).
              let digits = mantissa === 0 ? 0 : q - first;
              let scale = 0;
              if (c === 0x2e) {
                const fractionStart = ++q;
                if (mantissa === 0) while (b[q] === 0x30) q++;
                const significant = q;
                // Eight digits a step while eight bytes are digits (float32 data printed as doubles
                // has 16–17 after the point), then four, then one at a time. See fourDigits.
                while (q + 7 <= guard) {
                  const high = view.getUint32(q, true);
                  const low = view.getUint32(q + 4, true);
                  if ((notDigits(high) | notDigits(low)) !== 0) break;
                  mantissa = mantissa * 1e8 + (fourDigits(high) * 10000 + fourDigits(low));
                  q += 8;
                }
                if (q + 3 <= guard) {
                  const word = view.getUint32(q, true);
                  if (notDigits(word) === 0) {
                    mantissa = mantissa * 10000 + fourDigits(word);
                    q += 4;
                  }
                }
                c = b[q]!;
                while ((digit = c - 0x30) >>> 0 <= 9) {
                  mantissa = mantissa * 10 + digit;
                  c = b[++q]!;
                }
                if (q === fractionStart) break;
                digits += q - significant;
                scale = fractionStart - q;
              }
              if (c === 0x65 || c === 0x45) {
                c = b[++q]!;
                const negativeExponent = c === 0x2d;
                if (negativeExponent || c === 0x2b) c = b[++q]!;
                if ((c - 0x30) >>> 0 > 9) break;
                let exponent = 0;
                do {
                  if (exponent < 1000) exponent = exponent * 10 + (c - 0x30);
                  c = b[++q]!;
                } while ((c - 0x30) >>> 0 <= 9);
                scale += negativeExponent ? -exponent : exponent;
              }
              if (digits > maxDigits || scale < -22 || scale > 22) break;
              const value = scale === 0 ? mantissa : scale > 0 ? mantissa * POW10[scale]! : mantissa / POW10[-scale]!;
              if (digits > EXACT_DIGITS && !float32Settled(value)) break;
              if (count === capacity) {
                this.count = count;
                this.grow();
                numbers = this.numbers!;
                capacity = this.capacity;
              }
              numbers[count++] = negative ? -value : value;
              n++;
              while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++q]!;
              p = q + 1;
              if (c === 0x5d) {
                closed = true;
                break;
              }
              if (c !== 0x2c) cursor.fail("Missing a comma or ']' after an array element.", q);
              if (n === expected) {
                cursor.pos = p;
                this.sizeError(n + this.countRest(cursor, list), list, n);
              }
              c = b[p]!;
              while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++p]!;
            }
            if (!closed) break;
            if (expected < 0) sizes[list] = n;
            else if (n !== expected) this.sizeError(n, list, expected);
            // `,` `[` and a number next, with room in the parent list: the sibling list is read
            // here rather than through the general loop (one pixel of an image is such a list).
            if (list === 0) break;
            const parent = list - 1;
            const siblings = counts[parent]! + 1;
            if (siblings === sizes[parent]) break;
            let r = p;
            while (r < end && ((c = b[r]!) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) r++;
            if (r >= end || c !== 0x2c) break;
            r++;
            while (r < end && ((c = b[r]!) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) r++;
            if (r >= end || c !== 0x5b) break;
            r++;
            while (r < end && ((c = b[r]!) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) r++;
            if (r >= end || !(c === 0x2d || (c >= 0x30 && c <= 0x39))) break;
            counts[parent] = siblings;
            expected = sizes[list]!;
            n = 0;
            closed = false;
            p = r;
          }
          counts[list] = n;
          if (!closed) continue;
          depth = list;
        } else {
          // An empty list: the first one ends the shape there (TF stops at a list with no first element).
          p++;
          if (sizes[depth]! < 0) {
            sizes[depth] = 0;
            if (rank < 0) rank = depth + 1;
          } else if (sizes[depth] !== 0) {
            this.sizeError(0, depth, sizes[depth]!);
          }
        }
      } else {
        if (rank < 0) rank = depth;
        else if (depth !== rank) {
          cursor.pos = p;
          cursor.skipValue(depth);
          throw invalid(`JSON Value: ${truncateQuote(cursor.text(p))} found at incorrect level: ${depth + 1} in the JSON DOM. Expected at level: ${rank}`);
        }
        const next = fastFloats ? this.plainNumber(b, p, end, maxDigits) : -1;
        if (next >= 0) {
          p = next;
          if (count === capacity) {
            this.count = count;
            this.grow();
            numbers = this.numbers!;
            capacity = this.capacity;
          }
          numbers[count++] = this.plain;
        } else {
          this.count = count;
          cursor.pos = p;
          this.readScalar(cursor, p < end ? b[p]! : -1);
          p = cursor.pos;
          count = this.count;
          numbers = this.numbers!;
          capacity = this.capacity;
        }
      }
      // After a complete value at `depth`: a comma (next element) or closing brackets.
      for (;;) {
        if (depth === 0) {
          cursor.pos = p;
          this.count = count;
          return sizes.slice(0, rank);
        }
        const parent = depth - 1;
        const n = ++counts[parent]!;
        while (p < end && ((c = b[p]!) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) p++;
        c = p < end ? b[p]! : -1;
        p++;
        if (c === 0x2c) {
          if (n === sizes[parent]) {
            cursor.pos = p;
            this.sizeError(n + this.countRest(cursor, parent), parent, n);
          }
          break;
        }
        if (c !== 0x5d) cursor.fail("Missing a comma or ']' after an array element.", p - 1);
        if (sizes[parent]! < 0) sizes[parent] = n;
        else if (n !== sizes[parent]) this.sizeError(n, parent, sizes[parent]!);
        depth = parent;
      }
    }
  }

  /**
   * A plain decimal (-?digits[.digits], no exponent, at most maxDigits digits) at p: sets
   * `plain` and returns where it ends, or -1 for anything else (left to readNumber). The value is
   * what JSON.parse gives (rounded to float32 for DT_FLOAT); see float32Settled for 16–19 digits.
   */
  private plainNumber(b: Buffer, p: number, end: number, maxDigits: number): number {
    let c = b[p]!;
    const negative = c === 0x2d;
    if (negative) c = ++p < end ? b[p]! : -1;
    if (!(c >= 0x30 && c <= 0x39)) return -1;
    let mantissa = c - 0x30;
    let digits = 1;
    let fraction = 0;
    c = ++p < end ? b[p]! : -1;
    if (mantissa !== 0) {
      while (c >= 0x30 && c <= 0x39) {
        mantissa = mantissa * 10 + (c - 0x30);
        digits++;
        c = ++p < end ? b[p]! : -1;
      }
    }
    if (c === 0x2e) {
      c = ++p < end ? b[p]! : -1;
      if (!(c >= 0x30 && c <= 0x39)) return -1;
      do {
        mantissa = mantissa * 10 + (c - 0x30);
        digits++;
        fraction++;
        c = ++p < end ? b[p]! : -1;
      } while (c >= 0x30 && c <= 0x39);
    }
    if (c === 0x65 || c === 0x45 || digits > maxDigits || fraction > 22) return -1;
    const value = fraction === 0 ? mantissa : mantissa / POW10[fraction]!;
    if (digits > EXACT_DIGITS && !float32Settled(value)) return -1;
    this.plain = negative ? -value : value;
    return p;
  }

  private sizeError(size: number, level: number, expected: number): never {
    throw invalid(`Encountered list at unexpected size: ${size} at level: ${level} expected size: ${expected}`);
  }

  /** Inside a list that is already too long: counts its remaining elements, for the message. */
  private countRest(cursor: JsonCursor, level: number): number {
    let rest = 0;
    for (;;) {
      cursor.skipValue(level + 1);
      rest++;
      const next = cursor.peek();
      cursor.pos++;
      if (next !== 0x2c) return rest;
    }
  }

  private readScalar(cursor: JsonCursor, c: number): void {
    const isNumber = c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x4e || c === 0x49;
    switch (this.kind) {
      case 'float':
        if (!isNumber) return this.typeError(cursor);
        return this.push(cursor.readNumber());
      case 'int32': {
        if (!isNumber) return this.typeError(cursor);
        const value = cursor.readNumber();
        if (!cursor.numberIsInteger || value < INT32_MIN || value > INT32_MAX) return this.numberTypeError(cursor);
        // int8/int16/uint8 keep the low bits of an int32, as TF's int_val -> narrower cast does.
        return this.push(value);
      }
      case 'uint32': {
        if (!isNumber) return this.typeError(cursor);
        const value = cursor.readNumber();
        if (!cursor.numberIsInteger || value < 0 || value > UINT32_MAX) return this.numberTypeError(cursor);
        return this.push(value);
      }
      case 'int64':
      case 'uint64':
        if (!isNumber) return this.typeError(cursor);
        return this.push64(cursor);
      case 'bool':
        if (c !== 0x74 && c !== 0x66) return this.typeError(cursor);
        this.bools.push(cursor.readLiteral() === true);
        this.count++;
        return;
      case 'string':
        if (c === 0x22) this.strings.push(cursor.readStringBytes());
        else if (c === 0x7b) this.strings.push(base64ObjectBytes(parseValue(cursor)));
        else return this.typeError(cursor);
        this.count++;
        return;
      case undefined: {
        const value = parseValue(cursor);
        if (c === 0x7b) return this.typeError(cursor, value);
        throw new UnimplementedError(`Conversion of JSON Value: ${truncateQuote(stringifyJson(value))} to type: ${dataTypeName(this.dtype)}`);
      }
    }
  }

  private push(value: number): void {
    if (this.count === this.capacity) this.grow();
    this.numbers![this.count++] = value;
  }

  private push64(cursor: JsonCursor): void {
    const value = cursor.readNumber();
    if (!cursor.numberIsInteger) return this.numberTypeError(cursor);
    const unsigned = this.kind === 'uint64';
    if (this.count === this.capacity) this.grow();
    if (cursor.numberIsSafeInteger && !(unsigned && value < 0)) {
      // Two 32-bit halves, little-endian; floor division keeps the two's complement of negatives.
      const high = Math.floor(value / TWO_32);
      this.words![2 * this.count] = value - high * TWO_32;
      this.words![2 * this.count + 1] = high;
    } else {
      const exact = cursor.integerBigInt();
      const fits = unsigned ? exact >= 0n && exact <= UINT64_MAX : exact >= INT64_MIN && exact <= INT64_MAX;
      if (!fits) return this.numberTypeError(cursor);
      this.big![this.count] = exact;
    }
    this.count++;
  }

  /** TF's TypeError for the value at the cursor (or one already parsed). */
  private typeError(cursor: JsonCursor, parsed?: ReturnType<typeof parseValue>): never {
    const value = parsed === undefined ? parseValue(cursor) : parsed;
    throw this.mismatch(stringifyJson(value), jsonTypeName(value));
  }

  /** TF's TypeError for the number token just read. */
  private numberTypeError(cursor: JsonCursor): never {
    throw this.mismatch(cursor.text(cursor.numberStart), 'Number');
  }

  private mismatch(text: string, type: string): InvalidArgumentError {
    return invalid(`JSON Value: ${truncateQuote(text)} Type: ${type} is not of expected type: ${dataTypeName(this.dtype)}`);
  }

  /** The tensor of every element read, with `dims` (whose product must be the element count). */
  toProto(dims: readonly number[]): TensorProto {
    const elements = dims.reduce((a, b) => a * b, 1);
    if (elements !== this.count) throw new InternalError(`tensor of shape [${dims.join(',')}] built from ${this.count} JSON values`);
    const numeric = this.bytesPerElement > 0;
    return {
      ...TensorProto.create(),
      dtype: this.dtype,
      tensorShape: { dim: dims.map((size) => ({ size: BigInt(size), name: '' })), unknownRank: false },
      tensorContent: numeric ? new Uint8Array(this.buffer, 0, this.count * this.bytesPerElement) : new Uint8Array(0),
      stringVal: this.strings,
      boolVal: this.bools,
    };
  }
}
