import { TextFormatError, type Position } from './errors.js';

/** Single-character tokens of the text format. `-` is its own token; the parser glues it to the number or identifier after it. */
export type Punctuation = '{' | '}' | '<' | '>' | '[' | ']' | ':' | ',' | ';' | '-';

export type Token =
  | { readonly type: 'punctuation'; readonly value: Punctuation; readonly pos: Position }
  | { readonly type: 'identifier'; readonly value: string; readonly pos: Position }
  /**
   * An unsigned numeric literal. `value` is a bigint for integer literals (decimal, `0x` hex, `0` octal)
   * and a number for floating-point literals (`1.5`, `.5`, `1e3`, `2f`); `text` is the source spelling.
   */
  | { readonly type: 'number'; readonly text: string; readonly value: bigint | number; readonly pos: Position }
  /**
   * A quoted string with escapes resolved. `bytes` holds the exact bytes (octal and hex escapes may
   * produce any byte); `value` is their UTF-8 decoding, or undefined when they are not valid UTF-8.
   */
  | { readonly type: 'string'; readonly value: string | undefined; readonly bytes: Uint8Array; readonly pos: Position }
  | { readonly type: 'eof'; readonly pos: Position };

const PUNCTUATION = new Set<string>(['{', '}', '<', '>', '[', ']', ':', ',', ';', '-']);
const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  a: 0x07, b: 0x08, f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b, '\\': 0x5c, "'": 0x27, '"': 0x22, '?': 0x3f,
};
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isHexDigit = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);
const isIdentStart = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z_]$/.test(c);
const isIdentPart = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z0-9_]$/.test(c);
const isSpace = (c: string | undefined): boolean =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';

/** Appends the UTF-8 encoding of one code point (lone surrogates become U+FFFD). */
function pushUtf8(out: number[], cp: number): void {
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
  if (cp < 0x80) out.push(cp);
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
}

/** How a token is named in error messages: `'}'`, `'foo'`, `'42'`, `string "x"`, `end of input`. */
export function describeToken(token: Token): string {
  switch (token.type) {
    case 'punctuation':
    case 'identifier':
      return `'${token.value}'`;
    case 'number':
      return `'${token.text}'`;
    case 'string': {
      const shown = token.value ?? '<bytes>';
      return `string ${JSON.stringify(shown.length > 40 ? `${shown.slice(0, 40)}...` : shown)}`;
    }
    case 'eof':
      return 'end of input';
  }
}

/**
 * On-demand tokenizer for the protobuf text format with one token of lookahead. Whitespace and
 * `#` comments (to end of line) separate tokens. Every lexical error is a TextFormatError.
 */
export class Tokenizer {
  private offset = 0;
  private line = 1;
  private lineStart = 0;
  private lookahead: Token | undefined;

  constructor(private readonly input: string) {}

  peek(): Token {
    this.lookahead ??= this.scan();
    return this.lookahead;
  }

  next(): Token {
    const token = this.peek();
    this.lookahead = undefined;
    return token;
  }

  /** The position of the next character not yet scanned (after any lookahead token). */
  position(): Position {
    return this.positionAt(this.offset);
  }

  /**
   * Reads the inside of a bracketed field name (`[pkg.ext]`, `[type.googleapis.com/pkg.Msg]`) and its
   * closing `]`; the `[` must have been taken with next() and nothing peeked since.
   */
  readTypeName(): { name: string; pos: Position } {
    if (this.lookahead !== undefined) throw new Error('Tokenizer.readTypeName called with a token peeked');
    this.skipSpaceAndComments();
    const pos = this.position();
    let name = '';
    for (;;) {
      const c = this.input[this.offset];
      if (c !== undefined && /^[A-Za-z0-9_.\/%~-]$/.test(c)) {
        name += c;
        this.offset++;
      } else if (isSpace(c) || c === '#') {
        this.skipSpaceAndComments();
      } else {
        break;
      }
    }
    const closing = this.position();
    if (this.input[this.offset] !== ']') {
      const found = this.offset >= this.input.length ? 'end of input' : `'${this.input[this.offset]}'`;
      throw new TextFormatError(closing, `expected ']' but found ${found}`);
    }
    this.offset++;
    const typeName = name.slice(name.lastIndexOf('/') + 1);
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(typeName) || name.startsWith('/')) {
      throw new TextFormatError(pos, `invalid type or extension name '[${name}]'`);
    }
    return { name, pos };
  }

  /** Column bookkeeping: the column of `columnOffset` on the current line, so counting resumes from there. */
  private columnOffset = 0;
  private column = 1;

  private positionAt(offset: number): Position {
    if (this.columnOffset < this.lineStart || this.columnOffset > offset) {
      this.columnOffset = this.lineStart;
      this.column = 1;
    }
    for (let i = this.columnOffset; i < offset; i++) {
      const code = this.input.charCodeAt(i);
      const previous = i > this.lineStart ? this.input.charCodeAt(i - 1) : 0;
      const continuesPair = code >= 0xdc00 && code <= 0xdfff && previous >= 0xd800 && previous <= 0xdbff;
      if (!continuesPair) this.column++;
    }
    this.columnOffset = offset;
    return { line: this.line, column: this.column, offset };
  }

  private skipSpaceAndComments(): void {
    for (;;) {
      const c = this.input[this.offset];
      if (c === '\n') {
        this.offset++;
        this.line++;
        this.lineStart = this.offset;
      } else if (isSpace(c)) {
        this.offset++;
      } else if (c === '#') {
        while (this.offset < this.input.length && this.input[this.offset] !== '\n') this.offset++;
      } else {
        return;
      }
    }
  }

  private scan(): Token {
    this.skipSpaceAndComments();
    const pos = this.position();
    const c = this.input[this.offset];
    if (c === undefined) return { type: 'eof', pos };
    if (PUNCTUATION.has(c)) {
      this.offset++;
      return { type: 'punctuation', value: c as Punctuation, pos };
    }
    if (isIdentStart(c)) {
      const start = this.offset;
      while (isIdentPart(this.input[this.offset])) this.offset++;
      return { type: 'identifier', value: this.input.slice(start, this.offset), pos };
    }
    if (isDigit(c) || (c === '.' && isDigit(this.input[this.offset + 1]))) return this.scanNumber(pos);
    if (c === '"' || c === "'") return this.scanString(pos, c);
    const cp = this.input.codePointAt(this.offset) ?? 0;
    throw new TextFormatError(pos, `unexpected character ${JSON.stringify(String.fromCodePoint(cp))}`);
  }

  private scanNumber(pos: Position): Token {
    const input = this.input;
    const start = this.offset;
    let value: bigint | number;
    if (input[start] === '0' && (input[start + 1] === 'x' || input[start + 1] === 'X')) {
      this.offset += 2;
      while (isHexDigit(input[this.offset])) this.offset++;
      if (this.offset === start + 2) throw new TextFormatError(pos, "'0x' must be followed by hex digits");
      value = BigInt(input.slice(start, this.offset));
    } else if (input[start] === '0' && isDigit(input[start + 1])) {
      this.offset++;
      while (isDigit(input[this.offset])) this.offset++;
      const digits = input.slice(start + 1, this.offset);
      if (/[89]/.test(digits)) throw new TextFormatError(pos, 'numbers starting with a leading zero must be octal');
      value = BigInt(`0o${digits}`);
    } else {
      let isFloat = false;
      while (isDigit(input[this.offset])) this.offset++;
      if (input[this.offset] === '.') {
        isFloat = true;
        this.offset++;
        while (isDigit(input[this.offset])) this.offset++;
      }
      if (input[this.offset] === 'e' || input[this.offset] === 'E') {
        isFloat = true;
        this.offset++;
        if (input[this.offset] === '+' || input[this.offset] === '-') this.offset++;
        const digitsStart = this.offset;
        while (isDigit(input[this.offset])) this.offset++;
        if (this.offset === digitsStart) throw new TextFormatError(pos, "'e' must be followed by an exponent");
      }
      const mantissaEnd = this.offset;
      if (input[this.offset] === 'f' || input[this.offset] === 'F') {
        isFloat = true;
        this.offset++;
      }
      const literal = input.slice(start, mantissaEnd);
      value = isFloat ? Number(literal) : BigInt(literal);
    }
    const after = input[this.offset];
    if (isIdentPart(after) || after === '.') {
      throw new TextFormatError(
        this.position(),
        `unexpected '${after}' after number '${input.slice(start, this.offset)}' (numbers and names need a space between them)`,
      );
    }
    return { type: 'number', text: input.slice(start, this.offset), value, pos };
  }

  private scanString(pos: Position, quote: string): Token {
    const input = this.input;
    const bytes: number[] = [];
    this.offset++; // opening quote
    for (;;) {
      const c = input[this.offset];
      if (c === undefined || c === '\n') throw new TextFormatError(pos, 'string literal is not terminated before end of line');
      if (c === quote) {
        this.offset++;
        break;
      }
      if (c !== '\\') {
        const cp = input.codePointAt(this.offset) ?? 0;
        pushUtf8(bytes, cp);
        this.offset += cp > 0xffff ? 2 : 1;
        continue;
      }
      const escapePos = this.position();
      const e = input[this.offset + 1];
      const simple = e === undefined ? undefined : SIMPLE_ESCAPES[e];
      if (simple !== undefined) {
        bytes.push(simple);
        this.offset += 2;
      } else if (e !== undefined && e >= '0' && e <= '7') {
        let end = this.offset + 1;
        while (end < this.offset + 4 && (input[end] ?? '') >= '0' && (input[end] ?? '') <= '7') end++;
        const code = parseInt(input.slice(this.offset + 1, end), 8);
        if (code > 0xff) throw new TextFormatError(escapePos, `octal escape '${input.slice(this.offset, end)}' is out of range`);
        bytes.push(code);
        this.offset = end;
      } else if (e === 'x' || e === 'X') {
        let end = this.offset + 2;
        while (end < this.offset + 4 && isHexDigit(input[end])) end++;
        if (end === this.offset + 2) throw new TextFormatError(escapePos, "'\\x' must be followed by hex digits");
        bytes.push(parseInt(input.slice(this.offset + 2, end), 16));
        this.offset = end;
      } else if (e === 'u' || e === 'U') {
        this.offset = this.scanUnicodeEscape(escapePos, bytes);
      } else {
        const shown = e === undefined || e === '\n' ? '\\' : `\\${e}`;
        throw new TextFormatError(escapePos, `invalid escape sequence '${shown}'`);
      }
    }
    const array = Uint8Array.from(bytes);
    let value: string | undefined;
    try {
      value = utf8Decoder.decode(array);
    } catch {
      value = undefined;
    }
    return { type: 'string', value, bytes: array, pos };
  }

  /** `\uXXXX` (a surrogate pair is two of them) or `\UXXXXXXXX`; returns the offset after it. */
  private scanUnicodeEscape(escapePos: Position, bytes: number[]): number {
    const input = this.input;
    const readHex = (at: number, count: number): number | undefined => {
      const digits = input.slice(at, at + count);
      return digits.length === count && /^[0-9a-fA-F]+$/.test(digits) ? parseInt(digits, 16) : undefined;
    };
    const long = input[this.offset + 1] === 'U';
    const count = long ? 8 : 4;
    const cp = readHex(this.offset + 2, count);
    if (cp === undefined) {
      throw new TextFormatError(escapePos, `'\\${long ? 'U' : 'u'}' must be followed by ${count} hex digits`);
    }
    let end = this.offset + 2 + count;
    let codePoint = cp;
    if (cp > 0x10ffff) throw new TextFormatError(escapePos, 'Unicode escape is beyond U+10FFFF');
    if (cp >= 0xd800 && cp <= 0xdbff) {
      const low = input[end] === '\\' && input[end + 1] === 'u' ? readHex(end + 2, 4) : undefined;
      if (low === undefined || low < 0xdc00 || low > 0xdfff) {
        throw new TextFormatError(escapePos, 'Unicode escape is a high surrogate without a low surrogate after it');
      }
      codePoint = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
      end += 6;
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
      throw new TextFormatError(escapePos, 'Unicode escape is a low surrogate without a high surrogate before it');
    }
    pushUtf8(bytes, codePoint);
    return end;
  }
}
