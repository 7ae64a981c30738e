import assert from 'node:assert/strict';
import { TextFormatError } from '../src/index.js';

/** Asserts that `fn` throws a TextFormatError at exactly `line`:`column` whose reason matches `reason`. */
export function assertTextFormatError(fn: () => unknown, line: number, column: number, reason: RegExp): TextFormatError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof TextFormatError, `expected a TextFormatError, got ${String(caught)}`);
  assert.equal(caught.name, 'TextFormatError');
  assert.deepEqual({ line: caught.line, column: caught.column }, { line, column }, caught.message);
  assert.match(caught.reason, reason);
  assert.equal(caught.message, `line ${line}, column ${column}: ${caught.reason}`);
  return caught;
}
