import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tokenizer, fieldValues, parseTextFormat, MAX_NESTING_DEPTH, type MessageNode, type Token, type ValueNode } from '../src/index.js';
import { assertTextFormatError } from './helpers.js';

function tokens(text: string): Token[] {
  const tokenizer = new Tokenizer(text);
  const out: Token[] = [];
  for (let token = tokenizer.next(); token.type !== 'eof'; token = tokenizer.next()) out.push(token);
  return out;
}

/** A compact, position-free rendering of a parsed tree, for readable assertions. */
function plain(node: ValueNode): unknown {
  switch (node.kind) {
    case 'message':
      return node.fields.map((f) => [f.extension ? `[${f.name}]` : f.name, ...f.values.map(plain)]);
    case 'string':
      return { s: node.value };
    case 'number':
      return `${node.negative ? '-' : ''}${typeof node.value === 'bigint' ? `${node.value}n` : node.value}`;
    case 'bool':
      return node.value;
    case 'identifier':
      return `${node.negative ? '-' : ''}@${node.text}`;
  }
}

function stringValue(text: string): string | undefined {
  const node = parseTextFormat(`s: ${text}`).fields[0]?.values[0];
  assert.equal(node?.kind, 'string');
  return node.kind === 'string' ? node.value : undefined;
}

test('tokenizer: punctuation, identifiers, numbers and strings with 1-based positions', () => {
  const list = tokens('a { b: -1.5 }\n  c:"x" # comment\n<>[];,');
  assert.deepEqual(
    list.map((t) => [t.type, 'value' in t && typeof t.value !== 'object' ? t.value : 'text' in t ? t.text : '', t.pos.line, t.pos.column]),
    [
      ['identifier', 'a', 1, 1], ['punctuation', '{', 1, 3], ['identifier', 'b', 1, 5], ['punctuation', ':', 1, 6],
      ['punctuation', '-', 1, 8], ['number', 1.5, 1, 9], ['punctuation', '}', 1, 13],
      ['identifier', 'c', 2, 3], ['punctuation', ':', 2, 4], ['string', 'x', 2, 5],
      ['punctuation', '<', 3, 1], ['punctuation', '>', 3, 2], ['punctuation', '[', 3, 3], ['punctuation', ']', 3, 4],
      ['punctuation', ';', 3, 5], ['punctuation', ',', 3, 6],
    ],
  );
});

test('tokenizer: integer literals in decimal, hex and octal, float literals in every spelling', () => {
  const values = tokens('0 42 0x1F 0X1f 017 1.5 .5 1. 1e3 2E-2 1.5e+2 3f 2.5F 18446744073709551615').map((t) => (t.type === 'number' ? t.value : null));
  assert.deepEqual(values, [0n, 42n, 31n, 31n, 15n, 1.5, 0.5, 1, 1000, 0.02, 150, 3, 2.5, 18446744073709551615n]);
});

test('tokenizer: columns count code points, so text after an emoji keeps its column', () => {
  const list = tokens("name: '😀' x");
  assert.deepEqual(list.map((t) => t.pos.column), [1, 5, 7, 11]);
});

test('strings: both quote styles, every C escape, and adjacent literals are concatenated', () => {
  assert.equal(stringValue(`'it"s'`), 'it"s');
  assert.equal(stringValue(`"it's"`), "it's");
  assert.equal(stringValue(String.raw`"\a\b\f\n\r\t\v\\\'\"\?"`), '\x07\b\f\n\r\t\v\\\'"?');
  assert.equal(stringValue(String.raw`"\101\x42\103\0"`), 'ABC\0');
  assert.equal(stringValue(String.raw`"\u00e9\U0001F600\ud83d\ude00"`), 'é😀😀');
  assert.equal(stringValue(String.raw`"\303\251"`), 'é'); // UTF-8 bytes written as octal escapes
  assert.equal(stringValue(`"a" 'b'\n  # comment between parts\n "c"`), 'abc');
  assert.equal(stringValue(String.raw`"\xc3" "\xa9"`), 'é'); // a character split across two literals
  assert.equal(stringValue(`"日本語"`), '日本語');
  assert.equal(stringValue(`""`), '');
});

test('strings that are not UTF-8 keep their bytes and have no text value', () => {
  const node = parseTextFormat(String.raw`s: "\xff\x00"`).fields[0]?.values[0];
  assert.equal(node?.kind, 'string');
  if (node?.kind !== 'string') return;
  assert.equal(node.value, undefined);
  assert.deepEqual([...node.bytes], [0xff, 0x00]);
});

test('parser: every field syntax gives the same tree', () => {
  const expected = [['m', [['a', '1n'], ['b', { s: 'x' }]]]];
  for (const text of [
    'm { a: 1 b: "x" }',
    'm: { a: 1, b: "x" }',
    'm < a: 1; b: "x"; >',
    'm: <a:1,b:"x",>',
    '# leading comment\nm {\n  a: 1  # trailing comment\n  b: "x"\n}\n',
    'm{a:1;b:"x"};',
  ]) {
    assert.deepEqual(plain(parseTextFormat(text)), expected, text);
  }
});

test('parser: list syntax for scalars and messages, and empty lists', () => {
  const tree = parseTextFormat('v: [1, -2, 0x3] m: [{a: 1}, <a: 2>] n [{b: 3}] e: [] s: ["a" "b", \'c\']');
  assert.deepEqual(plain(tree), [
    ['v', '1n', '-2n', '3n'],
    ['m', [['a', '1n']], [['a', '2n']]],
    ['n', [['b', '3n']]],
    ['e'],
    ['s', { s: 'ab' }, { s: 'c' }],
  ]);
  assert.deepEqual(tree.fields.map((f) => f.list), [true, true, true, true, true]);
  assert.deepEqual([...fieldValues(parseTextFormat('v: 1 w: 2 v: [3, 4]')).keys()], ['v', 'w']);
  assert.deepEqual(fieldValues(parseTextFormat('v: 1 w: 2 v: [3, 4]')).get('v')?.map(plain), ['1n', '3n', '4n']);
});

test('parser: bools, identifiers, signed values and bracketed names', () => {
  const tree = parseTextFormat('a: true b: False c: t d: FOO e: -inf f: - 7 g: nan [type.googleapis.com/x.Y] { z: 1 } [pkg.ext]: 2');
  assert.deepEqual(plain(tree), [
    ['a', true], ['b', false], ['c', true], ['d', '@FOO'], ['e', '-@inf'], ['f', '-7n'], ['g', '@nan'],
    ['[type.googleapis.com/x.Y]', [['z', '1n']]], ['[pkg.ext]', '2n'],
  ]);
  const empty: MessageNode = parseTextFormat('  # nothing but a comment\n');
  assert.deepEqual(empty.fields, []);
});

test('parser: a value starts at its minus sign; fields and messages carry their positions', () => {
  const tree = parseTextFormat('a {\n  b: -5\n}');
  const a = tree.fields[0];
  assert.deepEqual(a?.pos, { line: 1, column: 1, offset: 0 });
  const inner = a?.values[0];
  assert.equal(inner?.kind, 'message');
  if (inner?.kind !== 'message') return;
  assert.deepEqual([inner.pos.line, inner.pos.column], [1, 3]);
  assert.deepEqual([inner.fields[0]?.pos.line, inner.fields[0]?.pos.column], [2, 3]);
  assert.deepEqual([inner.fields[0]?.values[0]?.pos.line, inner.fields[0]?.values[0]?.pos.column], [2, 6]);
});

test('syntax errors report line and column', () => {
  const cases: Array<[string, number, number, RegExp]> = [
    ['a {\n  b: 1\n  c: 2', 3, 7, /^expected '}' but found end of input$/],
    ['a {\n  b { c: 1 ]\n}', 2, 12, /^expected a field name or '}' but found ']'$/],
    ['a < b: 1 }', 1, 10, /^expected a field name or '>' but found '}'$/],
    ['a: 1\n}', 2, 1, /^expected a field name but found '}'$/],
    ['a 1', 1, 3, /^expected ':' or '\{' but found '1'$/],
    ['a "x"', 1, 3, /^expected ':' or '\{' but found string "x"$/],
    ['a:', 1, 3, /^expected a value but found end of input$/],
    ['a: }', 1, 4, /^expected a value but found '}'$/],
    ['a: - "x"', 1, 6, /^expected a number or identifier after '-' but found string "x"$/],
    ['a: [1 2]', 1, 7, /^expected ',' or ']' but found '2'$/],
    ['a: [1, ]', 1, 8, /^expected a value but found ']'$/],
    ['a [1]', 1, 4, /^expected '\{' \(a list of scalars needs ':' before '\['\) but found '1'$/],
    ['  42: 1', 1, 3, /^expected a field name but found '42'$/],
    ['a: 1\n\n   b: @', 3, 7, /^unexpected character "@"$/],
    ['a: .', 1, 4, /^unexpected character "\."$/],
    ["a: 'abc\nb: 1", 1, 4, /^string literal is not terminated before end of line$/],
    ['a: "abc', 1, 4, /^string literal is not terminated before end of line$/],
    ['a: "x\\qy"', 1, 6, /^invalid escape sequence '\\q'$/],
    ['a: "\\xZZ"', 1, 5, /^'\\x' must be followed by hex digits$/],
    ['a: "\\777"', 1, 5, /^octal escape '\\777' is out of range$/],
    ['a: "ok\\u12"', 1, 7, /^'\\u' must be followed by 4 hex digits$/],
    ['a: "\\U00110000"', 1, 5, /^Unicode escape is beyond U\+10FFFF$/],
    ['a: "\\ud83d"', 1, 5, /^Unicode escape is a high surrogate without a low surrogate after it$/],
    ['a: "\\ude00"', 1, 5, /^Unicode escape is a low surrogate without a high surrogate before it$/],
    ['a: 0x', 1, 4, /^'0x' must be followed by hex digits$/],
    ['a: 09', 1, 4, /^numbers starting with a leading zero must be octal$/],
    ['a: 1e', 1, 4, /^'e' must be followed by an exponent$/],
    ['a: 12abc', 1, 6, /^unexpected 'a' after number '12'/],
    ['a: 1.2.3', 1, 7, /^unexpected '\.' after number '1\.2'/],
    ['[type.googleapis.com/x.Y { }', 1, 26, /^expected '\]' but found '\{'$/],
    ['[type.googleapis.com/9x] { }', 1, 2, /^invalid type or extension name '\[type\.googleapis\.com\/9x\]'$/],
    ['a: 1\r\n  b: [1,\r\n  }', 3, 3, /^expected a value but found '}'$/],
    ['a: 1\r\n  b: [1,\r\n  c', 3, 4, /^expected ',' or '\]' but found end of input$/],
  ];
  for (const [text, line, column, reason] of cases) {
    assertTextFormatError(() => parseTextFormat(text), line, column, reason);
  }
});

test(`nesting deeper than ${MAX_NESTING_DEPTH} levels is an error, not a stack overflow`, () => {
  const ok = 'a { '.repeat(MAX_NESTING_DEPTH) + '}'.repeat(MAX_NESTING_DEPTH);
  assert.equal(parseTextFormat(ok).fields.length, 1);
  const deep = 'a { '.repeat(MAX_NESTING_DEPTH + 1) + '}'.repeat(MAX_NESTING_DEPTH + 1);
  assertTextFormatError(() => parseTextFormat(deep), 1, 4 * MAX_NESTING_DEPTH + 3, /nested deeper than 100 levels/);
});
