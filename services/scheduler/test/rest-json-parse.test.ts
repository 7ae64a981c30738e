import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { status } from '@grpc/grpc-js';
import { ServingError } from '@maas/errors';
import { JsonCursor, MAX_DEPTH } from '../src/rest/json-cursor.js';
import { decodeBase64, JsonNumber, JsonObject, jsonTypeName, openRootObject, parseJson, stringifyJson, type JsonValue } from '../src/rest/json-value.js';

const parse = (text: string) => parseJson(Buffer.from(text));

/** Asserts INVALID_ARGUMENT with a message matching `message`. */
function assertInvalid(fn: () => unknown, message: RegExp | string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ServingError, `expected a ServingError, got ${String(error)}`);
    assert.equal(error.code, status.INVALID_ARGUMENT);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

function numberOf(text: string): JsonNumber {
  const value = parse(text);
  assert.ok(value instanceof JsonNumber, text);
  return value;
}

test('numbers parse to the correctly rounded double, keeping their text', () => {
  for (const text of ['0', '-0', '1', '123456789012345', '0.1', '-2.5', '1e-5', '1E+300', '123.456e-7', '9007199254740993', '0.30000000000000004', '2.2250738585072014e-308', '5e-324', '1.7976931348623157e308']) {
    const n = numberOf(text);
    assert.ok(Object.is(n.value, Number(text)), `${text}: ${n.value} vs ${Number(text)}`);
    assert.equal(n.text, text);
  }
  assert.equal(numberOf('12').isInteger, true);
  assert.equal(numberOf('12.0').isInteger, false);
  assert.equal(numberOf('12e0').isInteger, false);
});

test('every double survives text -> readNumber exactly (property)', () => {
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
      const text = String(value).replace('Infinity', '1');
      const n = numberOf(text);
      return Object.is(n.value, Number(text));
    }),
    { numRuns: 2000 },
  );
});

test('NaN, Infinity and -Infinity tokens are accepted, as rapidjson does with kParseNanAndInfFlag', () => {
  assert.ok(Number.isNaN(numberOf('NaN').value));
  assert.equal(numberOf('Infinity').value, Infinity);
  assert.equal(numberOf('-Infinity').value, -Infinity);
  assert.equal(numberOf('Inf').value, Infinity);
  assert.equal(numberOf('-Inf').value, -Infinity);
  assert.equal(numberOf('Infinity').isInteger, false);
  const list = parse('[NaN, Infinity, -Infinity]') as JsonNumber[];
  assert.deepEqual(list.map((n) => n.text), ['NaN', 'Infinity', '-Infinity']);
});

test('integers beyond 2^53 keep their exact text for int64 readers', () => {
  const cursor = new JsonCursor(Buffer.from('-9223372036854775808'));
  cursor.readNumber();
  assert.equal(cursor.numberIsInteger, true);
  assert.equal(cursor.numberIsSafeInteger, false);
  assert.equal(cursor.integerBigInt(), -(2n ** 63n));
  assert.equal(numberOf('18446744073709551615').text, '18446744073709551615');
});

test('syntax errors name rapidjson\'s reason and the byte offset', () => {
  const cases: Array<[string, string]> = [
    ['', 'JSON Parse error: The document is empty'],
    ['   ', 'JSON Parse error: The document is empty. at offset: 3'],
    ['{"a": 1} x', 'JSON Parse error: The document root must not be followed by other values. at offset: 9'],
    ['[1, 2', "JSON Parse error: Missing a comma or ']' after an array element. at offset: 5"],
    ['[1 2]', "JSON Parse error: Missing a comma or ']' after an array element. at offset: 3"],
    ['{"a" 1}', 'JSON Parse error: Missing a colon after a name of object member. at offset: 5'],
    ['{"a": 1 "b": 2}', "JSON Parse error: Missing a comma or '}' after an object member. at offset: 8"],
    ['{1: 2}', 'JSON Parse error: Missing a name for object member. at offset: 1'],
    ['[tru]', 'JSON Parse error: Invalid value. at offset: 1'],
    ['[-]', 'JSON Parse error: Invalid value. at offset: 1'],
    ['[1.]', 'JSON Parse error: Missing fraction part in number. at offset: 3'],
    ['[1e]', 'JSON Parse error: Missing exponent in number. at offset: 3'],
    ['[1e400]', 'JSON Parse error: Number too big to be stored in double. at offset: 1'],
    ['[NaNa]', "JSON Parse error: Missing a comma or ']' after an array element. at offset: 4"],
    ['[Infinit]', 'JSON Parse error: Invalid value. at offset: 1'],
    ['"abc', 'JSON Parse error: Missing a closing quotation mark in string. at offset: 4'],
    ['"a\\qb"', 'JSON Parse error: Invalid escape character in string. at offset: 2'],
    ['"\\u12G4"', 'JSON Parse error: Incorrect hex digit after \\u escape in string. at offset: 5'],
    ['"\\ud800x"', 'JSON Parse error: The surrogate pair in string is invalid. at offset: 7'],
    ['"a\u0001"', 'JSON Parse error: Invalid encoding in string. at offset: 2'],
  ];
  for (const [text, message] of cases) assertInvalid(() => parse(text), message);
});

test('strings decode escapes, surrogate pairs and raw UTF-8', () => {
  assert.equal(parse('"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t"'), 'a"b\\c/d\b\f\n\r\t');
  assert.equal(parse('"\\u00e9\\ud83d\\ude00"'), 'é😀');
  assert.equal(parse('"héllo 😀"'), 'héllo 😀');
  const cursor = new JsonCursor(Buffer.from('"plain"'));
  const bytes = cursor.readStringBytes();
  assert.equal(Buffer.from(bytes).toString(), 'plain');
  assert.equal(cursor.pos, 7);
});

test('objects keep every member in order; get() returns the first of duplicates', () => {
  const value = parse('{"a": 1, "b": [true, false, null], "a": 2}');
  assert.ok(value instanceof JsonObject);
  assert.deepEqual(value.entries.map(([k]) => k), ['a', 'b', 'a']);
  assert.equal((value.get('a') as JsonNumber).text, '1');
  assert.deepEqual(value.get('b'), [true, false, null]);
  assert.equal(value.get('c'), undefined);
});

test('nesting deeper than MAX_DEPTH is refused instead of overflowing the stack', () => {
  assertInvalid(() => parse('['.repeat(MAX_DEPTH + 1) + ']'.repeat(MAX_DEPTH + 1)), /Nesting deeper than 512 levels/);
  assert.doesNotThrow(() => parse('['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH)));
});

test('skimValue finds the end of a value by structure, brackets inside strings included', () => {
  const text = '{"x": [[1, "]"], {"y": "[\\"}"}], "z": 3}';
  const cursor = new JsonCursor(Buffer.from(text), 6);
  cursor.skimValue();
  assert.equal(text.slice(6, cursor.pos), '[[1, "]"], {"y": "[\\"}"}]');
  const scalar = new JsonCursor(Buffer.from('[12.5e3 ,1]'), 1);
  scalar.skimValue();
  assert.equal(scalar.pos, 7);
  assertInvalid(() => new JsonCursor(Buffer.from('[[1, 2]')).skimValue(), /Missing a comma or '\]'/);
});

test('a root that is not an object is refused after the whole document is checked', () => {
  assertInvalid(() => openRootObject(Buffer.from('[1, 2]')), 'JSON Value: [1, 2] Is not object');
  assertInvalid(() => openRootObject(Buffer.from('[1, 2')), /JSON Parse error/);
  const cursor = openRootObject(Buffer.from(' {"a": 1}'));
  assert.equal(cursor.pos, 2);
});

test('jsonTypeName and stringifyJson follow TF (Number, String, True, …; numbers as sent)', () => {
  const samples: Array<[string, string]> = [['null', 'Null'], ['true', 'True'], ['false', 'False'], ['"s"', 'String'], ['1.50', 'Number'], ['[]', 'Array'], ['{}', 'Object']];
  for (const [text, name] of samples) assert.equal(jsonTypeName(parse(text)), name);
  const value: JsonValue = parse('{"a": [1.50, "x\\"y", null, true, {"b64": "AA=="}]}');
  assert.equal(stringifyJson(value), '{"a":[1.50,"x\\"y",null,true,{"b64":"AA=="}]}');
});

test('base64 is decoded strictly (standard alphabet, optional padding)', () => {
  assert.deepEqual([...decodeBase64('AAEC/w==')], [0, 1, 2, 255]);
  assert.deepEqual([...decodeBase64('AAEC/w')], [0, 1, 2, 255]);
  assert.deepEqual([...decodeBase64('')], []);
  for (const bad of ['AAE*', 'A', 'AA=A', 'AAE=C', '-_8=', 'AA===']) assertInvalid(() => decodeBase64(bad), 'Unable to base64 decode');
});
