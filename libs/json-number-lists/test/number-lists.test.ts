import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_RANK, NOT_HANDLED, OUT_OF_ROOM, numberLists, type NumberLists } from '@maas/json-number-lists';

const shape = new Int32Array(MAX_RANK + 1);

function lists(): NumberLists {
  assert.ok(numberLists, 'the native reader is not built: `npm ci` builds it with node-gyp (g++, make and python3 must be installed)');
  return numberLists;
}

/**
 * Reads `text` whole into a fresh array of `type`; the answer, the shape and the elements. Float32
 * numbers with 16 bytes before them and 40 after take the fast path (ScanFloat), so with `padded`
 * the text goes between runs of spaces that give every number that room, and `next` is counted
 * from the text's start.
 */
function readWith(reader: 'readLists' | 'readListsPortable', text: string, type: 'float32' | 'float64', room: number, padded: boolean) {
  const before = padded ? ' '.repeat(16) : '';
  const bytes = Buffer.from(padded ? `${before}${text}${' '.repeat(40)}` : text);
  const out = type === 'float32' ? new Float32Array(room) : new Float64Array(room);
  const answer = lists()[reader](bytes, 0, bytes.length, out, 0, shape);
  const next = answer >= 0 ? answer - before.length : answer;
  const dims = Array.from(shape.subarray(1, 1 + shape[0]!));
  const count = dims.reduce((a, b) => a * b, 1);
  return { next, dims, values: Array.from(out.subarray(0, count)) };
}

/**
 * readWith for readLists; for float32, readListsPortable must answer the same (on an AVX-512
 * processor readLists reads float32 lists with other code, float-lists-avx512.cc).
 */
function read(text: string, type: 'float32' | 'float64' = 'float32', room = 1024, padded = false) {
  const got = readWith('readLists', text, type, room, padded);
  if (type === 'float32') {
    const portable = readWith('readListsPortable', text, type, room, padded);
    // After NOT_HANDLED, out holds nothing the caller keeps.
    assert.deepEqual(got.next === NOT_HANDLED ? got.next : got, portable.next === NOT_HANDLED ? portable.next : portable, `the readers differ on ${text}`);
  }
  return got;
}

const LAYOUTS = [false, true] as const;

/** What JSON.parse makes of a rectangular list: its shape and its numbers, row-major. */
function parsed(text: string): { dims: number[]; values: number[] } {
  const dims: number[] = [];
  for (let level: unknown = JSON.parse(text); Array.isArray(level); level = level[0]) dims.push(level.length);
  return { dims, values: (JSON.parse(text) as unknown[]).flat(Infinity) as number[] };
}

test('npm ci built the native reader', () => {
  lists();
});

test('nested lists give their shape and row-major values; the answer is where the value ends', () => {
  const text = ' [ [1, 2.5e1 ,-0.1],\n[3,\t4,5\r] ] , "next"';
  const { next, dims, values } = read(text);
  assert.equal(next, text.indexOf(' , "next"'));
  assert.deepEqual(dims, [2, 3]);
  assert.deepEqual(values, [1, 25, Math.fround(-0.1), 3, 4, 5]);
  assert.deepEqual(read('[7]').dims, [1]);
  assert.deepEqual(read('[[[[1]]]]').dims, [1, 1, 1, 1]);
  assert.ok(Object.is(read('[-0]').values[0], -0));
  assert.ok(Object.is(read('[-0.000]', 'float64').values[0], -0));
});

test('values are JSON.parse\'s, rounded to float32 for a Float32Array (property)', () => {
  const number = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
    fc.float({ noNaN: true, noDefaultInfinity: true }).map((f) => String(f)),
    fc.float({ noNaN: true, noDefaultInfinity: true, min: -1, max: 1 }).map((f) => f.toPrecision(17)),
    fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 40n }), fc.integer({ min: -340, max: 320 })).map(([m, e]) => `${m}e${e}`),
    fc.tuple(fc.nat(), fc.stringMatching(/^[0-9]{1,30}$/)).map(([i, f]) => `${i}.${f}`),
  );
  // Past double range JSON.parse gives ±Infinity or 0 for digits that are not zero; those are the caller's.
  const outOfRange = (text: string) => !Number.isFinite(Number(text)) || (Number(text) === 0 && /[1-9]/.test(text.split(/e/i)[0]!));
  fc.assert(
    fc.property(fc.array(fc.array(number, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 20 }), (rows) => {
      const text = `[${rows.map((row) => `[${row.join(',')}]`).join(',')}]`;
      const expected = parsed(text);
      for (const [type, padded] of [['float32', false], ['float32', true], ['float64', false]] as const) {
        const got = read(text, type, 1024, padded);
        if (rows.flat().some(outOfRange)) {
          assert.equal(got.next, NOT_HANDLED, text);
          continue;
        }
        assert.equal(got.next, text.length, text);
        assert.deepEqual(got.dims, expected.dims);
        assert.deepEqual(got.values, type === 'float32' ? expected.values.map(Math.fround) : expected.values, text);
      }
    }),
    { numRuns: 3000 },
  );
});

test('float32 printed as doubles with 16–17 digits, the REST image case, reads back exactly (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 300 }), fc.boolean(), (floats, padded) => {
      const got = read(`[${floats.map((f) => (Object.is(f, -0) ? '-0' : String(f))).join(',')}]`, 'float32', 1024, padded);
      assert.deepEqual(got.values, floats);
    }),
    { numRuns: 500 },
  );
});

test('long lists, with any spacing and numbers of any length, read the same across the AVX-512 reader\'s 1 KiB chunks (property)', () => {
  const number = fc.oneof(
    { weight: 6, arbitrary: fc.float({ noNaN: true, noDefaultInfinity: true }).map((f) => (Object.is(f, -0) ? '-0' : String(f))) },
    { weight: 1, arbitrary: fc.stringMatching(/^-?[1-9][0-9]{30,300}(\.[0-9]{1,300})?$/) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: -40, max: 38 })).map(([m, e]) => `${m}e${e}`) },
  );
  const space = fc.constantFrom('', '', '', ' ', '\n  ', '\t');
  const list = fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 6 })).chain(([rows, columns]) =>
    fc.tuple(fc.array(fc.array(fc.tuple(number, space, space), { minLength: columns, maxLength: columns }), { minLength: rows, maxLength: rows }), space),
  );
  fc.assert(
    fc.property(list, ([rows, gap]) => {
      const text = `[${rows.map((row) => `[${row.map(([n, a, b]) => `${a}${n}${b}`).join(',')}]`).join(`,${gap}`)}]`;
      const document = `${text} , "signature_name": "e-1"`;
      const expected = parsed(text);
      const got = read(document, 'float32', 4096);
      assert.equal(got.next, text.length, text);
      assert.deepEqual(got.dims, expected.dims);
      assert.deepEqual(got.values, expected.values.map(Math.fround), text);
    }),
    { numRuns: 300 },
  );
});

test('a long list that is ragged anywhere, by one number or one list, is left to the caller (property)', () => {
  const shapes = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 40 }), fc.integer({ min: 1, max: 5 }));
  const style = fc.constantFrom({ comma: ',', space: '' }, { comma: ', ', space: '' }, { comma: ',', space: ' ' });
  fc.assert(
    fc.property(shapes, style, fc.nat(), fc.constantFrom('drop a number', 'add a number', 'drop a list', 'add a list'), ([a, b, c], { comma, space }, seed, change) => {
      const lists = Array.from({ length: a }, (_, i) => Array.from({ length: b }, (_, j) => Array.from({ length: c }, (_, k) => String(((i * 31 + j * 7 + k) % 50) / 4))));
      const print = (value: string[][][]) => `[${value.map((middle) => `[${space}${middle.map((inner) => `[${inner.join(comma)}]`).join(comma)}${space}]`).join(comma)}]`;
      const text = print(lists);
      const whole = read(text, 'float32', 4096);
      assert.equal(whole.next, text.length);
      assert.deepEqual(whole.dims, [a, b, c]);
      const [i, j] = [seed % a, Math.floor(seed / a) % b];
      const ragged = lists.map((middle) => middle.map((inner) => [...inner]));
      // (A list added or dropped is ragged only beside another middle list.)
      if (change === 'drop a number' && c > 1) ragged[i]![j]!.pop();
      else if (change.endsWith('a number') || a === 1) ragged[i]![j]!.push('1.5');
      else if (change === 'drop a list') ragged[i]!.splice(j, 1);
      else ragged[i]!.splice(j, 0, ragged[i]![j]!);
      assert.equal(read(print(ragged), 'float32', 4096).next, NOT_HANDLED, `${change} at ${i},${j}`);
    }),
    { numRuns: 1000 },
  );
});

test('decimals at and beside float32 rounding midpoints round as JSON.parse then Math.fround do (property)', () => {
  // The fast path settles a float from 16 digits when the decimal is not within 2^-48 of a
  // rounding boundary; these are, so they are read again exactly (ties go to even).
  const near = fc.tuple(fc.float({ min: Math.fround(1e-6), max: Math.fround(1e6), noNaN: true }), fc.integer({ min: -3, max: 3 }), fc.integer({ min: 15, max: 21 }));
  fc.assert(
    fc.property(fc.array(near, { minLength: 1, maxLength: 50 }), fc.boolean(), (points, negative) => {
      const texts = points.map(([f, step, digits]) => {
        const next = new Float32Array([f]);
        new Int32Array(next.buffer)[0]! += 1;
        const midpoint = (f + next[0]!) / 2; // exact in a double
        const decimal = (midpoint + step * Number.EPSILON * midpoint).toPrecision(digits);
        return negative ? `-${decimal}` : decimal;
      });
      const text = `[${texts.join(',')}]`;
      for (const padded of LAYOUTS) assert.deepEqual(read(text, 'float32', 1024, padded).values, texts.map((t) => Math.fround(Number(t))), text);
    }),
    { numRuns: 500 },
  );
});

test('the fast path takes what looks like its numbers and leaves the rest, with the same values', () => {
  const texts = [
    '[0,-0,0.0,-0.0,0.000,1,7,1234567,12345678,-9999999,0.5,-0.5,123.25,1.0e2,1E-3,0.0000001234,0.00000001234]',
    '[0.12345678901234567890123,0.000000000000000000000001,1.000000000000000000000001,9999999.9999999999]',
    '[0.00000001234567890123456,-0.00000009876543210987654,0.0000000123456789012345]',
    '[[ 1 , 2.5 ],\n[\t-3, 4.75]]',
  ];
  for (const text of texts) {
    const expected = parsed(text);
    for (const padded of LAYOUTS) {
      const got = read(text, 'float32', 1024, padded);
      assert.equal(got.next, text.length, text);
      assert.deepEqual(got.dims, expected.dims);
      assert.deepEqual(got.values, expected.values.map(Math.fround), text); // strict: -0 is not 0
    }
  }
  for (const bad of ['[01]', '[-01]', '[1.]', '[.5]', '[1.5.5]', '[1e]', '[-]', '[0x1]', '[1-2]']) assert.equal(read(bad, 'float32', 16, true).next, NOT_HANDLED, bad);
});

test('anything but a rectangular non-empty list of plain numbers is left to the caller', () => {
  const refused = [
    '', ' ', '1', '"a"', '{}', '[]', '[[]]', '[[1],[]]', '[[1],[2,3]]', '[[1,2],[3]]', '[[1],2]', '[1,[2]]', '[1,NaN]', '[Infinity]', '[-Infinity]', '["1"]',
    '[true]', '[null]', '[{"b64":"AA=="}]', '[01]', '[-01]', '[+1]', '[.5]', '[1.]', '[1.e5]', '[1e]', '[1e+]', '[-]', '[1,]', '[,1]', '[1 2]', '[1', '[[1]',
    '[1e400]', '[-1e400]', '[0x10]', `${'['.repeat(MAX_RANK + 1)}1${']'.repeat(MAX_RANK + 1)}`,
  ];
  for (const text of refused) for (const padded of LAYOUTS) assert.equal(read(text, 'float32', 1024, padded).next, NOT_HANDLED, text);
  assert.notEqual(read(`${'['.repeat(MAX_RANK)}1${']'.repeat(MAX_RANK)}`).next, NOT_HANDLED);
});

test('bytes past `end` are never read, and `start` may be inside the buffer', () => {
  const bytes = Buffer.from('xx[1, 25] 7]');
  const out = new Float32Array(4);
  assert.equal(lists().readLists(bytes, 2, 7, out, 0, shape), NOT_HANDLED); // "[1, 2" without its end
  assert.equal(lists().readLists(bytes, 2, 9, out, 0, shape), 9);
  assert.deepEqual(Array.from(out.subarray(0, 2)), [1, 25]);
  // A number running to `end` is not continued from the bytes after it.
  const cut = Buffer.from('[0.123456789012345678]');
  assert.equal(lists().readLists(cut, 0, 10, new Float32Array(1), 0, shape), NOT_HANDLED);
});

test('values go after `offset`; without room the answer is OUT_OF_ROOM with the whole shape, and nothing past the end is written', () => {
  const out = new Float32Array(5).fill(9);
  assert.equal(lists().readLists(Buffer.from('[1,2]'), 0, 5, out, 3, shape), 5);
  assert.deepEqual(Array.from(out), [9, 9, 9, 1, 2]);
  const small = new Float64Array(new ArrayBuffer(8 * 4), 0, 2);
  const after = new Float64Array(small.buffer, 16, 2).fill(7);
  assert.equal(lists().readLists(Buffer.from('[[1,2],[3,4],[5,6]]'), 0, 19, small, 1, shape), OUT_OF_ROOM);
  assert.deepEqual(Array.from(shape.subarray(0, 3)), [2, 3, 2]);
  assert.deepEqual(Array.from(after), [7, 7]);
});

test('the wrong arguments are a TypeError, not a crash', () => {
  const bytes = Buffer.from('[1]');
  const call = (...args: unknown[]) => (lists().readLists as (...a: unknown[]) => number)(...args);
  assert.throws(() => call(bytes, 0, 3, new Float32Array(1), 0), TypeError);
  assert.throws(() => call('[1]', 0, 3, new Float32Array(1), 0, shape), TypeError);
  assert.throws(() => call(bytes, 0, 3, new Int32Array(1), 0, shape), TypeError);
  assert.throws(() => call(bytes, 0, 3, new Float32Array(1), 0, new Int32Array(2)), TypeError);
  assert.throws(() => call(bytes, 0, 4, new Float32Array(1), 0, shape), TypeError);
  assert.throws(() => call(bytes, 2, 1, new Float32Array(1), 0, shape), TypeError);
  assert.throws(() => call(bytes, 0, 3, new Float32Array(1), 2, shape), TypeError);
});
