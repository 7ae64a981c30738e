import { POW10 } from './json-cursor.js';

/**
 * Builds a JSON response as bytes, element by element, without an intermediate JS value tree.
 * Numbers are written the way TF Serving's writer does (shared/spec §7.4): whole floats get `.0`,
 * non-finite values are the bare tokens NaN/Infinity/-Infinity, %g-style exponents (`1e-05`), and
 * 64-bit integers exactly.
 */
export class JsonWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(initialBytes = 1 << 16) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  /** Makes room for `bytes` more (writes reserve for themselves; this only saves regrowing). */
  reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  byte(c: number): void {
    this.reserve(1);
    this.buffer[this.length++] = c;
  }

  /** Text known to be ASCII (punctuation, keys we spell, number text). */
  ascii(text: string): void {
    const n = text.length;
    this.reserve(n);
    if (n > 32) {
      this.length += this.buffer.write(text, this.length, 'latin1');
      return;
    }
    const b = this.buffer;
    let at = this.length;
    for (let i = 0; i < n; i++) b[at++] = text.charCodeAt(i);
    this.length = at;
  }

  /** A JSON string literal of any text, escaped. */
  string(text: string): void {
    const literal = JSON.stringify(text);
    this.reserve(literal.length * 3);
    this.length += this.buffer.write(literal, this.length, 'utf8');
  }

  /** `"name":` */
  key(name: string): void {
    this.string(name);
    this.byte(0x3a);
  }

  /** Between two innermost lists of nested lists: `]` and `[` `depth` times each, around a comma. */
  nextList(depth: number): void {
    this.reserve(2 * depth + 1);
    const b = this.buffer;
    let at = this.length;
    for (let i = 0; i < depth; i++) b[at++] = 0x5d;
    b[at++] = 0x2c;
    for (let i = 0; i < depth; i++) b[at++] = 0x5b;
    this.length = at;
  }

  bool(value: boolean): void {
    this.ascii(value ? 'true' : 'false');
  }

  /** values[offset, offset+count) comma-separated; whole numbers inline, the rest through float32/float64. */
  floatRun(values: Float32Array | Float64Array, offset: number, count: number, single: boolean): void {
    this.reserve(count * RUN_BYTES);
    let b = this.buffer;
    let at = this.length;
    for (let i = 0; i < count; i++) {
      if (i > 0) b[at++] = 0x2c;
      const value = values[offset + i]!;
      const a = value < 0 ? -value : value;
      const whole = a | 0;
      if (whole === a && a < 1e6 && (a !== 0 || 1 / value > 0)) {
        if (value < 0) b[at++] = 0x2d;
        at = writeSmallInteger(b, at, whole);
        b[at++] = 0x2e;
        b[at++] = 0x30;
        continue;
      }
      if (single && a >= 1e-4 && a < 1e5) {
        // The common float32 case, written here: positional digits (%g keeps this range positional).
        if (value < 0) b[at++] = 0x2d;
        const end = writeFloat32(b, at, a);
        if (end >= 0) {
          at = end;
          continue;
        }
        if (value < 0) at--;
      }
      this.length = at;
      if (single) this.float32(value);
      else this.float64(value);
      this.reserve((count - i) * RUN_BYTES);
      b = this.buffer;
      at = this.length;
    }
    this.length = at;
  }

  /** values[offset, offset+count) comma-separated, for integer arrays of at most 32 bits. */
  integerRun(values: ArrayLike<number>, offset: number, count: number): void {
    this.reserve(count * RUN_BYTES);
    const b = this.buffer;
    let at = this.length;
    for (let i = 0; i < count; i++) {
      if (i > 0) b[at++] = 0x2c;
      let value = values[offset + i]!;
      if (value < 0) {
        b[at++] = 0x2d;
        value = -value;
      }
      at = value <= 0x7fffffff ? writeSmallInteger(b, at, value | 0) : writeDigits(b, at, value, digitCount(value));
    }
    this.length = at;
  }

  bigint(value: bigint): void {
    this.ascii(value.toString());
  }

  /** A float32 value: the shortest digits that read back to the same float. */
  float32(value: number): void {
    if (this.special(value)) return;
    const a = Math.abs(value);
    if (value < 0) this.byte(0x2d);
    if (a < 1e6 && Math.floor(a) === a) return this.wholeNumber(a);
    // The shortest of 1..9 significant digits that round-trips, by binary search (more digits
    // never hurt): D = round(a·10^q) read back as D/10^q (correctly rounded for |q| <= 22,
    // Clinger) must round to the same float. Very large or small values take the slow
    // toPrecision path; 9 digits always round-trip a float.
    const exponent = decimalExponent(a);
    if (exponent >= -13 && exponent <= 14) {
      let low = 1;
      let high = 9;
      let found = -1;
      let foundQ = 0;
      while (low <= high) {
        const precision = (low + high) >> 1;
        const q = precision - 1 - exponent;
        const digits = roundTrip(a, q);
        if (digits >= 0) {
          found = digits;
          foundQ = q;
          high = precision - 1;
        } else {
          low = precision + 1;
        }
      }
      if (found >= 0) return this.scaled(found, foundQ, 9);
    }
    for (let precision = 1; ; precision++) {
      const text = a.toPrecision(precision);
      if (precision === 9 || Math.fround(Number(text)) === a) return this.numberText(text, 9);
    }
  }

  /** A float64 value: JS's shortest round-trip digits, in TF's layout. */
  float64(value: number): void {
    if (this.special(value)) return;
    const a = Math.abs(value);
    if (value < 0) this.byte(0x2d);
    if (a < 1e6 && Math.floor(a) === a) return this.wholeNumber(a);
    this.numberText(String(a), 17);
  }

  /** A whole number below 1e6: its digits and `.0`. */
  private wholeNumber(a: number): void {
    this.reserve(9);
    const b = this.buffer;
    let at = writeSmallInteger(b, this.length, a | 0);
    b[at++] = 0x2e;
    b[at++] = 0x30;
    this.length = at;
  }

  /**
   * digits·10^-q with digits < 2^31 (float32 output has at most 9 digits), laid out like
   * decimal() but straight from the integer with int32 arithmetic (the hot path of float output).
   */
  private scaled(digits: number, q: number, maxPrecision: number): void {
    let d = digits | 0;
    while (d % 10 === 0) {
      d = (d / 10) | 0;
      q--;
    }
    const n = smallWidth(d);
    const exponent = n - 1 - q;
    const precision = n <= 6 ? 6 : maxPrecision;
    if (exponent < -4 || exponent >= precision) {
      this.decimal(String(d), exponent, maxPrecision);
      return;
    }
    this.reserve(n + 8);
    const b = this.buffer;
    let at = this.length;
    if (exponent < 0) {
      b[at++] = 0x30;
      b[at++] = 0x2e;
      for (let i = -1; i > exponent; i--) b[at++] = 0x30;
      at = writeSmallInteger(b, at, d);
    } else if (n > exponent + 1) {
      // Digits with the point after the first exponent+1 of them.
      const fraction = n - exponent - 1;
      const scale = POW10[fraction]!;
      const whole = (d / scale) | 0;
      at = writeSmallInteger(b, at, whole);
      b[at++] = 0x2e;
      at = writePadded(b, at, d - whole * scale, fraction);
    } else {
      at = writeSmallInteger(b, at, d);
      for (let i = n; i <= exponent; i++) b[at++] = 0x30;
      b[at++] = 0x2e;
      b[at++] = 0x30;
    }
    this.length = at;
  }

  /** NaN, ±Infinity and ±0; false for every other value. */
  private special(value: number): boolean {
    if (value !== value) this.ascii('NaN');
    else if (value === Infinity) this.ascii('Infinity');
    else if (value === -Infinity) this.ascii('-Infinity');
    else if (value === 0) this.ascii(Object.is(value, -0) ? '-0.0' : '0.0');
    else return false;
    return true;
  }

  /** Digits and exponent of JS number text (String, toPrecision) of a positive value, re-laid out by decimal(). */
  private numberText(text: string, maxPrecision: number): void {
    const e = text.indexOf('e');
    const mantissa = e < 0 ? text : text.slice(0, e);
    const power = e < 0 ? 0 : Number(text.slice(e + 1));
    const dot = mantissa.indexOf('.');
    const integerDigits = dot < 0 ? mantissa.length : dot;
    const all = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
    let lead = 0;
    while (all.charCodeAt(lead) === 0x30) lead++;
    this.decimal(all.slice(lead), power + integerDigits - 1 - lead, maxPrecision);
  }

  /**
   * Writes d1.d2d3…×10^exponent the way %g does after TF picked 6 or `maxPrecision` digits:
   * scientific when exponent < -4 or >= that precision (exponent with at least two digits),
   * else positional; whole numbers get `.0`.
   */
  private decimal(digits: string, exponent: number, maxPrecision: number): void {
    let end = digits.length;
    while (end > 1 && digits.charCodeAt(end - 1) === 0x30) end--;
    const d = end === digits.length ? digits : digits.slice(0, end);
    const precision = d.length <= 6 ? 6 : maxPrecision;
    if (exponent < -4 || exponent >= precision) {
      const sign = exponent < 0 ? '-' : '+';
      const magnitude = Math.abs(exponent);
      this.ascii(`${d[0]}${d.length > 1 ? `.${d.slice(1)}` : ''}e${sign}${magnitude < 10 ? '0' : ''}${magnitude}`);
    } else if (exponent < 0) {
      this.ascii(`0.${'0'.repeat(-exponent - 1)}${d}`);
    } else if (d.length > exponent + 1) {
      this.ascii(`${d.slice(0, exponent + 1)}.${d.slice(exponent + 1)}`);
    } else {
      this.ascii(`${d}${'0'.repeat(exponent + 1 - d.length)}.0`);
    }
  }

  /** Binary data as TF writes it: {"b64": "<base64>"}. */
  base64(bytes: Uint8Array): void {
    this.ascii('{"b64":"');
    this.ascii(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'));
    this.ascii('"}');
  }

  /** The bytes written so far (a view; the writer must not be used afterwards). */
  finish(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

const DOUBLE = new Float64Array(1);
const DOUBLE_WORDS = new Uint32Array(DOUBLE.buffer);
/** 10^k for k in -50..50 (index k + 50): the decades a float32 can fall in. */
const DECADES = Array.from({ length: 101 }, (_, i) => Number(`1e${i - 50}`));

/**
 * floor(log10(a)) for a float32-range a > 0, from the binary exponent (Math.log10 costs more
 * than the rest of formatting a float): ⌊e2·log10(2)⌋ is right or one off, then the table decides.
 */
function decimalExponent(a: number): number {
  DOUBLE[0] = a;
  const e2 = ((DOUBLE_WORDS[1]! >>> 20) & 0x7ff) - 1023; // little-endian: the high word is second
  let e10 = (e2 * 1233) >> 12;
  while (e10 < 50 && a >= DECADES[e10 + 51]!) e10++;
  while (e10 > -50 && a < DECADES[e10 + 50]!) e10--;
  return e10;
}

/**
 * Room reserved per element of a run: a comma and a 32-bit integer, a whole float below 1e6 with
 * `.0`, or what writeFloat32 writes (a sign, `0.000` and nine digits).
 */
const RUN_BYTES = 16;

/**
 * The shortest of 1..9 significant digits of a float32 `a` in [1e-4, 1e5) that reads back to it,
 * written positionally at `at` (returns the end), as float32() does; -1 where no candidate
 * passes (float32() then decides). The candidate for p digits is D = round(a·10^q) with
 * q = p - 1 - ⌊log10 a⌋, read back as D/10^q (correctly rounded: D < 2^31, q <= 22, Clinger).
 * Eight digits nearly always pass, so the search goes down from there (a float32 needs at most
 * nine): two or three tries instead of a binary search's three or four.
 */
function writeFloat32(b: Buffer, at: number, a: number): number {
  const e10 = decimalExponent(a);
  let q = 7 - e10;
  let digits = roundTrip(a, q);
  if (digits < 0) {
    q++;
    digits = roundTrip(a, q);
    if (digits < 0) return -1;
  } else {
    for (let shorter = roundTrip(a, q - 1); shorter >= 0 && q - 1 + e10 >= 0; shorter = roundTrip(a, q - 1)) {
      digits = shorter;
      q--;
    }
  }
  let d = digits;
  for (let next = (d / 10) | 0; d === next * 10; next = (d / 10) | 0) {
    d = next;
    q--;
  }
  const n = smallWidth(d);
  const exponent = n - 1 - q;
  if (exponent < 0) {
    b[at++] = 0x30;
    b[at++] = 0x2e;
    for (let i = -1; i > exponent; i--) b[at++] = 0x30;
    return writePadded(b, at, d, n);
  }
  if (n > exponent + 1) {
    const fraction = n - exponent - 1;
    const scale = POW10[fraction]!;
    const whole = (d / scale) | 0;
    at = writePadded(b, at, whole, exponent + 1);
    b[at++] = 0x2e;
    return writePadded(b, at, d - whole * scale, fraction);
  }
  at = writePadded(b, at, d, n);
  for (let i = n; i <= exponent; i++) b[at++] = 0x30;
  b[at++] = 0x2e;
  b[at++] = 0x30;
  return at;
}

/**
 * round(a·10^q) when it reads back (as digits/10^q) to the float32 a, else -1. The digits stay
 * below 10^9, so rounding half up through int32 is Math.round; |q| <= 22 keeps the read-back
 * correctly rounded (Clinger).
 */
function roundTrip(a: number, q: number): number {
  const digits = ((q >= 0 ? a * POW10[q]! : a / POW10[-q]!) + 0.5) | 0;
  const back = q >= 0 ? digits / POW10[q]! : digits * POW10[-q]!;
  return Math.fround(back) === a ? digits : -1;
}

/** Decimal digits of a non-negative integer below 1e16 (1 for 0). */
function digitCount(value: number): number {
  let n = 1;
  while (n < 16 && value >= POW10[n]!) n++;
  return n;
}

/** Writes `value` as exactly `width` digits (zero-padded on the left) at `at`; returns the end. */
function writeDigits(b: Buffer, at: number, value: number, width: number): number {
  const end = at + width;
  for (let i = end - 1; i >= at; i--) {
    const next = Math.floor(value / 10);
    b[i] = 0x30 + (value - next * 10);
    value = next;
  }
  return end;
}

/** "00" … "99" as byte pairs, for writing two digits per step. */
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 0x30 + (i & 1 ? (i >> 1) % 10 : Math.floor((i >> 1) / 10)));

/** Decimal digits of a non-negative int32. */
function smallWidth(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6 : n < 10000000 ? 7 : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
}

/** Writes a non-negative int32 in decimal at `at` with int32 arithmetic only; returns the end. */
function writeSmallInteger(b: Buffer, at: number, n: number): number {
  return writePadded(b, at, n, smallWidth(n));
}

/** Writes a non-negative int32 as exactly `width` digits (zero-padded on the left); returns the end. */
function writePadded(b: Buffer, at: number, n: number, width: number): number {
  const end = at + width;
  let i = end;
  while (n >= 100) {
    const q = (n / 100) | 0;
    const r = (n - q * 100) << 1;
    b[--i] = DIGIT_PAIRS[r + 1]!;
    b[--i] = DIGIT_PAIRS[r]!;
    n = q;
  }
  if (n >= 10) {
    b[--i] = DIGIT_PAIRS[(n << 1) + 1]!;
    b[--i] = DIGIT_PAIRS[n << 1]!;
  } else {
    b[--i] = 0x30 + n;
  }
  while (i > at) b[--i] = 0x30;
  return end;
}
