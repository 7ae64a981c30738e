import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlagError, parseFlags, type FlagSpec } from '../src/flags.js';

const SPECS: Record<string, FlagSpec> = {
  port: { type: 'int', default: 8500, help: '' },
  model_name: { type: 'string', help: '' },
  enable_batching: { type: 'bool', default: false, help: '' },
};

test('both --flag=value and --flag value, with defaults for the rest', () => {
  assert.deepEqual(parseFlags(['--port=9000', '--model_name', 'm'], SPECS), { port: 9000, model_name: 'm', enable_batching: false });
  assert.deepEqual(parseFlags([], SPECS), { port: 8500, model_name: undefined, enable_batching: false });
});

test('booleans: bare, =true, =false and a following true/false', () => {
  assert.equal(parseFlags(['--enable_batching'], SPECS).enable_batching, true);
  assert.equal(parseFlags(['--enable_batching=false'], SPECS).enable_batching, false);
  assert.equal(parseFlags(['--enable_batching', 'false'], SPECS).enable_batching, false);
  assert.equal(parseFlags(['--enable_batching', '--port=1'], SPECS).enable_batching, true);
});

test('bad flags are FlagErrors that name the flag', () => {
  assert.throws(() => parseFlags(['--nope=1'], SPECS), (e: Error) => e instanceof FlagError && /--nope/.test(e.message));
  assert.throws(() => parseFlags(['--port=abc'], SPECS), /--port expects an integer, got 'abc'/);
  assert.throws(() => parseFlags(['--enable_batching=maybe'], SPECS), /--enable_batching expects true or false/);
  assert.throws(() => parseFlags(['--model_name'], SPECS), /--model_name needs a value/);
  assert.throws(() => parseFlags(['stray'], SPECS), /unexpected argument 'stray'/);
});
