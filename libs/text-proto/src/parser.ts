import { TextFormatError, type Position } from './errors.js';
import { Tokenizer, describeToken, type Token } from './tokenizer.js';

/**
 * A scalar value as written, before any schema gives it a type.
 * - `identifier`: an enum name or a special float (`inf`, `nan`); `negative` when written `-inf`.
 * - `bool`: the identifiers `true`/`True`/`t` and `false`/`False`/`f` (`text` keeps the spelling, so an
 *   enum schema can still read them as names).
 * - `number`: `value` is a bigint for integer literals and a number for float literals, without the sign.
 * - `string`: adjacent literals already concatenated; see the tokenizer for `value` vs `bytes`.
 * `pos` is where the value starts (at the `-` of a negative value).
 */
export type ScalarNode =
  | { readonly kind: 'identifier'; readonly text: string; readonly negative: boolean; readonly pos: Position }
  | { readonly kind: 'bool'; readonly text: string; readonly value: boolean; readonly pos: Position }
  | { readonly kind: 'number'; readonly text: string; readonly value: bigint | number; readonly negative: boolean; readonly pos: Position }
  | { readonly kind: 'string'; readonly value: string | undefined; readonly bytes: Uint8Array; readonly pos: Position };

/** A `{ ... }` or `< ... >` block (or the whole file): its fields in source order, one entry per occurrence. */
export interface MessageNode {
  readonly kind: 'message';
  readonly fields: readonly FieldNode[];
  readonly pos: Position;
}

export type ValueNode = ScalarNode | MessageNode;

/**
 * One occurrence of a field. `values` has one element for `name: value` / `name { ... }` and any number
 * for the list syntax `name: [a, b]` (then `list` is true). `extension` marks a bracketed name such as
 * `[type.googleapis.com/pkg.Msg]` (the expanded form of google.protobuf.Any); `name` is then the inside.
 */
export interface FieldNode {
  readonly name: string;
  readonly extension: boolean;
  readonly pos: Position;
  readonly values: readonly ValueNode[];
  readonly list: boolean;
}

/** Deepest nesting of `{}`/`<>` accepted, so hostile input cannot exhaust the stack. */
export const MAX_NESTING_DEPTH = 100;

const BOOL_WORDS: Readonly<Record<string, boolean>> = { true: true, True: true, t: true, false: false, False: false, f: false };

/**
 * Parses protobuf text format into a schema-free tree. Accepts `name: value`, `name { ... }`,
 * `name: { ... }`, `< ... >` blocks, `,`/`;` after any field, list syntax `name: [1, 2]` and
 * `name: [{...}, {...}]`, `#` comments, and single- or double-quoted strings with C escapes
 * (adjacent literals are concatenated). Throws TextFormatError with the line and column of the problem.
 */
export function parseTextFormat(text: string): MessageNode {
  return new Parser(text).parseDocument();
}

/** Groups a message's fields by name: name -> every value given for it, in source order. */
export function fieldValues(message: MessageNode): Map<string, ValueNode[]> {
  const byName = new Map<string, ValueNode[]>();
  for (const field of message.fields) {
    const key = field.extension ? `[${field.name}]` : field.name;
    const list = byName.get(key) ?? [];
    list.push(...field.values);
    byName.set(key, list);
  }
  return byName;
}

class Parser {
  private readonly tokens: Tokenizer;

  constructor(text: string) {
    this.tokens = new Tokenizer(text);
  }

  parseDocument(): MessageNode {
    const pos = this.tokens.peek().pos;
    const fields = this.parseFields(undefined, 0);
    return { kind: 'message', fields, pos };
  }

  private fail(token: Token, expected: string): never {
    throw new TextFormatError(token.pos, `expected ${expected} but found ${describeToken(token)}`);
  }

  private isPunct(token: Token, value: string): boolean {
    return token.type === 'punctuation' && token.value === value;
  }

  /** Fields up to `close` (consumed) or, for the document, to end of input. */
  private parseFields(close: '}' | '>' | undefined, depth: number): FieldNode[] {
    const fields: FieldNode[] = [];
    for (;;) {
      const token = this.tokens.peek();
      if (close === undefined ? token.type === 'eof' : this.isPunct(token, close)) {
        this.tokens.next();
        return fields;
      }
      if (token.type === 'eof') this.fail(token, `'${close}'`);
      fields.push(this.parseField(depth, close));
      const separator = this.tokens.peek();
      if (this.isPunct(separator, ',') || this.isPunct(separator, ';')) this.tokens.next();
    }
  }

  private parseField(depth: number, close: '}' | '>' | undefined): FieldNode {
    const nameToken = this.tokens.next();
    let name: string;
    let extension = false;
    if (nameToken.type === 'identifier') {
      name = nameToken.value;
    } else if (this.isPunct(nameToken, '[')) {
      name = this.tokens.readTypeName().name;
      extension = true;
    } else {
      this.fail(nameToken, close === undefined ? 'a field name' : `a field name or '${close}'`);
    }
    const pos = nameToken.pos;
    const colon = this.isPunct(this.tokens.peek(), ':');
    if (colon) this.tokens.next();
    const next = this.tokens.peek();
    if (this.isPunct(next, '[')) {
      this.tokens.next();
      return { name, extension, pos, values: this.parseList(depth, colon), list: true };
    }
    if (this.isPunct(next, '{') || this.isPunct(next, '<')) {
      return { name, extension, pos, values: [this.parseMessage(depth)], list: false };
    }
    if (!colon) this.fail(next, `':' or '{'`);
    return { name, extension, pos, values: [this.parseScalar()], list: false };
  }

  /** After `[`: `]` or values separated by `,` then `]`. Without a `:` before `[`, only messages may follow. */
  private parseList(depth: number, colon: boolean): ValueNode[] {
    const values: ValueNode[] = [];
    if (this.isPunct(this.tokens.peek(), ']')) {
      this.tokens.next();
      return values;
    }
    for (;;) {
      const next = this.tokens.peek();
      if (this.isPunct(next, '{') || this.isPunct(next, '<')) values.push(this.parseMessage(depth));
      else if (colon) values.push(this.parseScalar());
      else this.fail(next, `'{' (a list of scalars needs ':' before '[')`);
      const separator = this.tokens.next();
      if (this.isPunct(separator, ']')) return values;
      if (!this.isPunct(separator, ',')) this.fail(separator, `',' or ']'`);
    }
  }

  private parseMessage(depth: number): MessageNode {
    const open = this.tokens.next();
    if (depth + 1 > MAX_NESTING_DEPTH) {
      throw new TextFormatError(open.pos, `messages are nested deeper than ${MAX_NESTING_DEPTH} levels`);
    }
    const close = this.isPunct(open, '<') ? '>' : '}';
    const fields = this.parseFields(close, depth + 1);
    return { kind: 'message', fields, pos: open.pos };
  }

  private parseScalar(): ScalarNode {
    const first = this.tokens.next();
    if (first.type === 'string') {
      const parts = [first];
      for (let next = this.tokens.peek(); next.type === 'string'; next = this.tokens.peek()) parts.push(this.tokens.next() as typeof first);
      if (parts.length === 1) return { kind: 'string', value: first.value, bytes: first.bytes, pos: first.pos };
      const bytes = new Uint8Array(parts.reduce((n, p) => n + p.bytes.length, 0));
      let at = 0;
      for (const part of parts) {
        bytes.set(part.bytes, at);
        at += part.bytes.length;
      }
      const value = parts.every((p) => p.value !== undefined) ? parts.map((p) => p.value).join('') : decodeOrUndefined(bytes);
      return { kind: 'string', value, bytes, pos: first.pos };
    }
    const negative = this.isPunct(first, '-');
    const token = negative ? this.tokens.next() : first;
    if (token.type === 'number') {
      return { kind: 'number', text: token.text, value: token.value, negative, pos: first.pos };
    }
    if (token.type === 'identifier') {
      const bool = BOOL_WORDS[token.value];
      if (bool !== undefined && !negative) return { kind: 'bool', text: token.value, value: bool, pos: first.pos };
      return { kind: 'identifier', text: token.value, negative, pos: first.pos };
    }
    this.fail(token, negative ? "a number or identifier after '-'" : 'a value');
  }
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function decodeOrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    return undefined;
  }
}
