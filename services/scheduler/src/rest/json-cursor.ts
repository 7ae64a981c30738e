import { InvalidArgumentError } from '@maas/errors';

/*
 * A byte-level JSON lexer over the request body. JSON.parse cannot serve REST predict: it refuses
 * the NaN/Infinity/-Infinity tokens TF Serving accepts (rapidjson's kParseNanAndInfFlag), it rounds
 * int64 values beyond 2^53, and it would build one JS value per tensor element. Pre-processing the
 * text (quoting the special tokens and big integers) would need a tokenizer anyway to stay out of
 * string literals, so we tokenize once here and let the readers above write elements straight
 * into typed arrays. Error texts follow rapidjson's (GetParseError_En) with TF's prefix.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const UPPER_N = 0x4e;
const UPPER_I = 0x49;

/** Exact powers of ten: every 10^k with k <= 22 is a double, so one multiply or divide by it rounds correctly. */
export const POW10: readonly number[] = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/** Nesting deeper than this is refused; tensors have rank <= 254, plus a few levels of objects. */
export const MAX_DEPTH = 512;

/** A syntax error at a byte offset, in TF's words ("JSON Parse error: <rapidjson text> at offset: N"). */
export function parseError(message: string, offset: number): InvalidArgumentError {
  return new InvalidArgumentError(`JSON Parse error: ${message} at offset: ${offset}`);
}

export class JsonCursor {
  pos: number;
  /** Set by readNumber: the token had no fraction or exponent (rapidjson's integer kinds). */
  numberIsInteger = false;
  /** Set by readNumber: an integer token whose value is exact in a double (at most 15 digits). */
  numberIsSafeInteger = false;
  /** Set by readNumber: where the token started (its end is `pos`). */
  numberStart = 0;

  constructor(
    readonly bytes: Buffer,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  /** Skips whitespace; returns the next byte, or -1 at the end. */
  peek(): number {
    const b = this.bytes;
    let p = this.pos;
    const end = this.end;
    while (p < end) {
      const c = b[p]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      p++;
    }
    this.pos = p;
    return p < end ? b[p]! : -1;
  }

  fail(message: string, offset = this.pos): never {
    throw parseError(message, offset);
  }

  /** Consumes `c` (after whitespace) or fails with `message`. */
  expect(c: number, message: string): void {
    if (this.peek() !== c) this.fail(message);
    this.pos++;
  }

  /** The source text of [start, end), for error messages (never for values). */
  text(start: number, end = this.pos): string {
    return this.bytes.toString('utf8', start, end);
  }

  /** Reads a string token as a JS string. */
  readString(): string {
    const start = this.pos + 1;
    const close = this.scanString();
    if (close >= 0) return this.bytes.toString('utf8', start, close);
    return Buffer.from(this.unescape(start)).toString('utf8');
  }

  /**
   * Reads a string token as its bytes, always a copy: the body's buffer is reused once it has been
   * read (body-buffers.ts). Bytes pass through unvalidated, as rapidjson does by default.
   */
  readStringBytes(): Uint8Array {
    const start = this.pos + 1;
    const close = this.scanString();
    if (close >= 0) return Uint8Array.prototype.slice.call(this.bytes, start, close);
    return this.unescape(start);
  }

  /**
   * Advances past a string starting at `pos` (a quote). Returns the closing quote's offset when
   * the string has no escapes, else -1 with `pos` left on the opening quote for unescape().
   */
  private scanString(): number {
    const b = this.bytes;
    const end = this.end;
    let p = this.pos + 1;
    while (p < end) {
      const c = b[p]!;
      if (c === QUOTE) {
        this.pos = p + 1;
        return p;
      }
      if (c === BACKSLASH) return -1;
      if (c < 0x20) this.fail(c === 0 ? 'Missing a closing quotation mark in string.' : 'Invalid encoding in string.', p);
      p++;
    }
    return this.fail('Missing a closing quotation mark in string.', p);
  }

  /** The slow path of a string with escapes; `start` is just after the opening quote. */
  private unescape(start: number): Uint8Array {
    const b = this.bytes;
    const end = this.end;
    const out: number[] = [];
    let p = start;
    for (;;) {
      if (p >= end) this.fail('Missing a closing quotation mark in string.', p);
      const c = b[p]!;
      if (c === QUOTE) break;
      if (c < 0x20) this.fail(c === 0 ? 'Missing a closing quotation mark in string.' : 'Invalid encoding in string.', p);
      if (c !== BACKSLASH) {
        out.push(c);
        p++;
        continue;
      }
      const e = b[p + 1];
      p += 2;
      switch (e) {
        case QUOTE: out.push(QUOTE); break;
        case BACKSLASH: out.push(BACKSLASH); break;
        case 0x2f: out.push(0x2f); break;
        case 0x62: out.push(0x08); break;
        case 0x66: out.push(0x0c); break;
        case 0x6e: out.push(0x0a); break;
        case 0x72: out.push(0x0d); break;
        case 0x74: out.push(0x09); break;
        case 0x75: {
          let code = this.hex4(p);
          p += 4;
          if (code >= 0xd800 && code <= 0xdbff) {
            if (b[p] !== BACKSLASH || b[p + 1] !== 0x75) this.fail('The surrogate pair in string is invalid.', p);
            const low = this.hex4(p + 2);
            if (low < 0xdc00 || low > 0xdfff) this.fail('The surrogate pair in string is invalid.', p + 2);
            code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
            p += 6;
          }
          for (const byte of Buffer.from(String.fromCodePoint(code), 'utf8')) out.push(byte);
          break;
        }
        default:
          this.fail('Invalid escape character in string.', p - 2);
      }
    }
    this.pos = p + 1;
    return Uint8Array.from(out);
  }

  private hex4(p: number): number {
    let value = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.bytes[p + i];
      const digit =
        c === undefined ? -1 : c >= ZERO && c <= NINE ? c - ZERO : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (digit < 0 || p + i >= this.end) this.fail('Incorrect hex digit after \\u escape in string.', p + i);
      value = value * 16 + digit;
    }
    return value;
  }

  /**
   * Reads a number token, including rapidjson's NaN, Inf and Infinity (optionally signed). Values
   * are correctly rounded: short tokens exactly in arithmetic (Clinger's fast path), others by
   * Number(). Sets numberIsInteger, numberIsSafeInteger and numberStart.
   */
  readNumber(): number {
    const b = this.bytes;
    const end = this.end;
    const start = this.pos;
    this.numberStart = start;
    let p = start;
    let negative = false;
    if (b[p] === MINUS) {
      negative = true;
      p++;
    }
    let c = p < end ? b[p]! : -1;
    if (c === UPPER_N || c === UPPER_I) return this.readSpecial(p, negative);
    let mantissa = 0;
    let digits = 0; // significant digits accumulated into mantissa
    let intDigits = 0;
    if (c === ZERO) {
      p++;
      intDigits = 1;
    } else if (c > ZERO && c <= NINE) {
      do {
        mantissa = mantissa * 10 + (c - ZERO);
        digits++;
        intDigits++;
        c = ++p < end ? b[p]! : -1;
      } while (c >= ZERO && c <= NINE);
    } else {
      this.fail('Invalid value.', start);
    }
    c = p < end ? b[p]! : -1;
    let fractionDigits = 0;
    let isInteger = true;
    if (c === DOT) {
      isInteger = false;
      c = ++p < end ? b[p]! : -1;
      if (!(c >= ZERO && c <= NINE)) this.fail('Missing fraction part in number.', p);
      do {
        if (mantissa !== 0 || c !== ZERO) digits++;
        mantissa = mantissa * 10 + (c - ZERO);
        fractionDigits++;
        c = ++p < end ? b[p]! : -1;
      } while (c >= ZERO && c <= NINE);
    }
    let exponent = 0;
    if (c === LOWER_E || c === UPPER_E) {
      isInteger = false;
      c = ++p < end ? b[p]! : -1;
      let exponentNegative = false;
      if (c === PLUS || c === MINUS) {
        exponentNegative = c === MINUS;
        c = ++p < end ? b[p]! : -1;
      }
      if (!(c >= ZERO && c <= NINE)) this.fail('Missing exponent in number.', p);
      do {
        if (exponent < 100000) exponent = exponent * 10 + (c - ZERO);
        c = ++p < end ? b[p]! : -1;
      } while (c >= ZERO && c <= NINE);
      if (exponentNegative) exponent = -exponent;
    }
    this.pos = p;
    this.numberIsInteger = isInteger;
    this.numberIsSafeInteger = isInteger && intDigits <= 15;
    let value: number;
    const scale = exponent - fractionDigits;
    if (digits <= 15 && scale >= -22 && scale <= 22) {
      value = scale >= 0 ? mantissa * POW10[scale]! : mantissa / POW10[-scale]!;
    } else {
      value = Number(b.toString('latin1', negative ? start + 1 : start, p));
    }
    if (value === Infinity) this.fail('Number too big to be stored in double.', start);
    return negative ? -value : value;
  }

  private readSpecial(p: number, negative: boolean): number {
    const b = this.bytes;
    const matches = (word: string) => {
      for (let i = 0; i < word.length; i++) if (p + i >= this.end || b[p + i] !== word.charCodeAt(i)) return false;
      return true;
    };
    let value: number;
    if (matches('NaN')) {
      value = NaN;
      p += 3;
    } else if (matches('Infinity')) {
      value = negative ? -Infinity : Infinity;
      p += 8;
    } else if (matches('Inf') && b[p + 3] !== 0x69) {
      value = negative ? -Infinity : Infinity;
      p += 3;
    } else {
      return this.fail('Invalid value.', this.numberStart);
    }
    this.pos = p;
    this.numberIsInteger = false;
    this.numberIsSafeInteger = false;
    return value;
  }

  /** The current integer token as a bigint (for int64/uint64 beyond 2^53). */
  integerBigInt(): bigint {
    return BigInt(this.bytes.toString('latin1', this.numberStart, this.pos));
  }

  /** Reads `true`, `false` or `null` at `pos`. */
  readLiteral(): boolean | null {
    const b = this.bytes;
    const p = this.pos;
    const word = b[p] === 0x74 ? 'true' : b[p] === 0x66 ? 'false' : b[p] === 0x6e ? 'null' : undefined;
    if (word === undefined) this.fail('Invalid value.', p);
    for (let i = 1; i < word.length; i++) if (p + i >= this.end || b[p + i] !== word.charCodeAt(i)) this.fail('Invalid value.', p);
    this.pos = p + word.length;
    return word === 'null' ? null : word === 'true';
  }

  /** Validates and steps over one value of any kind. */
  skipValue(depth = 0): void {
    const c = this.peek();
    if (c === QUOTE) {
      if (this.scanString() < 0) this.unescape(this.pos + 1);
    } else if (c === 0x5b) {
      this.enter(depth);
      this.pos++;
      if (this.peek() === 0x5d) {
        this.pos++;
        return;
      }
      for (;;) {
        this.skipValue(depth + 1);
        const next = this.peek();
        this.pos++;
        if (next === 0x5d) return;
        if (next !== 0x2c) this.fail("Missing a comma or ']' after an array element.", this.pos - 1);
      }
    } else if (c === 0x7b) {
      this.enter(depth);
      this.pos++;
      if (this.peek() === 0x7d) {
        this.pos++;
        return;
      }
      for (;;) {
        this.readKey();
        this.skipValue(depth + 1);
        if (this.endOfMember()) return;
      }
    } else if (c === MINUS || (c >= ZERO && c <= NINE) || c === UPPER_N || c === UPPER_I) {
      this.readNumber();
    } else if (c === -1) {
      this.fail('Invalid value.');
    } else {
      this.readLiteral();
    }
  }

  /**
   * Steps over one value by its structure alone (string quotes and bracket depth), much faster
   * than skipValue. Whoever reads the value later must validate it; the span is all this finds.
   */
  skimValue(): void {
    const b = this.bytes;
    const end = this.end;
    const first = this.peek();
    let p = this.pos;
    if (first !== 0x5b && first !== 0x7b) {
      if (first === QUOTE) {
        if (this.scanString() < 0) this.unescape(p + 1);
        return;
      }
      while (p < end) {
        const c = b[p]!;
        if (c === 0x2c || c === 0x5d || c === 0x7d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) break;
        p++;
      }
      if (p === this.pos) this.fail('Invalid value.');
      this.pos = p;
      return;
    }
    let depth = 0;
    while (p < end) {
      const c = b[p++]!;
      if (c === QUOTE) {
        while (p < end) {
          const d = b[p++]!;
          if (d === BACKSLASH) p++;
          else if (d === QUOTE) break;
        }
      } else if (c === 0x5b || c === 0x7b) {
        depth++;
      } else if ((c === 0x5d || c === 0x7d) && --depth === 0) {
        this.pos = p;
        return;
      }
    }
    this.fail(first === 0x5b ? "Missing a comma or ']' after an array element." : "Missing a comma or '}' after an object member.", end);
  }

  /** Refuses nesting beyond MAX_DEPTH (rapidjson has no limit; we would overflow the stack instead). */
  enter(depth: number): void {
    if (depth >= MAX_DEPTH) this.fail(`Nesting deeper than ${MAX_DEPTH} levels.`);
  }

  /** Inside an object, at a member: reads `"key":` and returns the key. */
  readKey(): string {
    if (this.peek() !== QUOTE) this.fail('Missing a name for object member.');
    const key = this.readString();
    this.expect(0x3a, 'Missing a colon after a name of object member.');
    return key;
  }

  /** After a member's value: true at the closing brace (consumed), false after a comma. */
  endOfMember(): boolean {
    const next = this.peek();
    this.pos++;
    if (next === 0x7d) return true;
    if (next !== 0x2c) this.fail("Missing a comma or '}' after an object member.", this.pos - 1);
    return false;
  }
}
