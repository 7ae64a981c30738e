/** A place in the source text. `line` and `column` are 1-based; columns count Unicode code points. */
export interface Position {
  readonly line: number;
  readonly column: number;
  /** 0-based offset in UTF-16 code units, as used by `String.prototype.slice`. */
  readonly offset: number;
}

/**
 * The one error type of this package: every syntax error and every schema error (unknown field,
 * wrong value kind, out-of-range number, ...) is a TextFormatError pointing at the offending token.
 * The message reads `line 3, column 15: expected '}' but found ':'`; `reason` is the part after the
 * position.
 */
export class TextFormatError extends Error {
  override readonly name = 'TextFormatError';
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  readonly reason: string;

  constructor(position: Position, reason: string) {
    super(`line ${position.line}, column ${position.column}: ${reason}`);
    this.line = position.line;
    this.column = position.column;
    this.offset = position.offset;
    this.reason = reason;
  }
}
