import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DataType, type Example, type Feature } from '@maas/protos';
import { FailedPreconditionError, InvalidArgumentError } from '@maas/errors';
import type { ModelSignature, TensorSpec } from '@maas/onnx-runtime';
import { examplesOf, feedsFromExamples, planFeeds } from '../src/examples/index.js';

const floats = (...value: number[]): Feature => ({ floatList: { value } });
const int64s = (...value: Array<number | bigint>): Feature => ({ int64List: { value: value.map((v) => BigInt(v)) } });
const bytes = (...value: string[]): Feature => ({ bytesList: { value: value.map((v) => new TextEncoder().encode(v)) } });
const example = (feature: Record<string, Feature>): Example => ({ features: { feature } });
const spec = (alias: string, dtype: DataType, shape: number[], name = alias): TensorSpec => ({ alias, name, dtype, shape });
const signature = (...inputs: TensorSpec[]): ModelSignature => ({ inputs, outputs: [spec('scores', DataType.DT_FLOAT, [-1, 2])] });

function throwsWith(fn: () => unknown, type: new (...args: never[]) => Error, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

/** The linear model's inputs: age float [-1,1], tags int64 [-1,2]. */
const linear = signature(spec('age', DataType.DT_FLOAT, [-1, 1]), spec('tags', DataType.DT_INT64, [-1, 2]));

const feedsFor = (sig: ModelSignature, examples: Example[], context?: Example, limits = {}) =>
  feedsFromExamples(planFeeds(sig), examplesOf({ ...(context ? { exampleListWithContext: { examples, context } } : { exampleList: { examples } }) }), limits);

describe('planFeeds: which model inputs Examples can feed', () => {
  test('float, double, int64, int32 and string inputs with a dynamic or 1 batch dim are accepted', () => {
    const plans = planFeeds(
      signature(
        spec('f', DataType.DT_FLOAT, [-1, 3]),
        spec('d', DataType.DT_DOUBLE, [-1]),
        spec('l', DataType.DT_INT64, [1, 2]),
        spec('i', DataType.DT_INT32, [-1, -1]),
        spec('s', DataType.DT_STRING, [-1, 2, 2]),
      ),
    );
    assert.deepEqual(
      plans.map((p) => [p.spec.alias, p.kind, p.type, p.batchDim, p.rowDims]),
      [
        ['f', 'float_list', 'float32', -1, [3]],
        ['d', 'float_list', 'float64', -1, []],
        ['l', 'int64_list', 'int64', 1, [2]],
        ['i', 'int64_list', 'int32', -1, [-1]],
        ['s', 'bytes_list', 'string', -1, [2, 2]],
      ],
    );
  });

  test('a dtype no feature kind maps to is FAILED_PRECONDITION naming the input and its type', () => {
    throwsWith(() => planFeeds(signature(spec('age', DataType.DT_FLOAT, [-1, 1]), spec('flag', DataType.DT_BOOL, [-1]))), FailedPreconditionError, /input 'flag' has type bool/);
    throwsWith(() => planFeeds(signature(spec('h', DataType.DT_HALF, [-1]))), FailedPreconditionError, /'h' has type half/);
    throwsWith(() => planFeeds(signature(spec('u', DataType.DT_UINT8, [-1]))), FailedPreconditionError, /'u' has type uint8/);
  });

  test('a fixed batch dim other than 1 is FAILED_PRECONDITION', () => {
    throwsWith(() => planFeeds(signature(spec('x', DataType.DT_FLOAT, [4, 2]))), FailedPreconditionError, /input 'x' has shape \[4,2\] with a fixed batch dim of 4/);
  });

  test('a scalar input is FAILED_PRECONDITION', () => {
    throwsWith(() => planFeeds(signature(spec('x', DataType.DT_FLOAT, []))), FailedPreconditionError, /input 'x' is a scalar/);
  });

  test('two dynamic non-batch dims are FAILED_PRECONDITION', () => {
    throwsWith(() => planFeeds(signature(spec('x', DataType.DT_FLOAT, [-1, -1, -1]))), FailedPreconditionError, /'x' has shape \[\?,\?,\?\]; at most one non-batch dim/);
  });
});

describe('examplesOf', () => {
  test('no input, no list, an empty list or a context without examples is `Input is empty.`', () => {
    for (const input of [undefined, {}, { exampleList: { examples: [] } }, { exampleListWithContext: { examples: [], context: example({ age: floats(1) }) } }]) {
      throwsWith(() => examplesOf(input), InvalidArgumentError, /^Input is empty\.$/);
    }
  });

  test('returns the examples and the context', () => {
    const context = example({ a: floats(1) });
    const examples = [example({ b: floats(2) })];
    assert.deepEqual(examplesOf({ exampleListWithContext: { examples, context } }), { examples, context });
    assert.deepEqual(examplesOf({ exampleList: { examples } }), { examples });
  });
});

describe('feedsFromExamples: Examples stacked along dim 0', () => {
  test('float and int64 features become [n, ...row] float32 and int64 tensors, one row per example in order', () => {
    const feeds = feedsFor(linear, [example({ age: floats(1.5), tags: int64s(1, 2) }), example({ age: floats(-2), tags: int64s(3, 4n) })]);
    assert.equal(feeds.age!.type, 'float32');
    assert.deepEqual(feeds.age!.dims, [2, 1]);
    assert.deepEqual(Array.from(feeds.age!.data as Float32Array), [1.5, -2]);
    assert.equal(feeds.tags!.type, 'int64');
    assert.deepEqual(feeds.tags!.dims, [2, 2]);
    assert.deepEqual(Array.from(feeds.tags!.data as BigInt64Array), [1n, 2n, 3n, 4n]);
  });

  test('int64 values keep all 64 bits', () => {
    const feeds = feedsFor(signature(spec('t', DataType.DT_INT64, [-1])), [example({ t: int64s(9007199254740993n) }), example({ t: int64s(-(2n ** 63n)) })]);
    assert.deepEqual(Array.from(feeds.t!.data as BigInt64Array), [9007199254740993n, -(2n ** 63n)]);
  });

  test('a [batch] input takes one value per example and gets dims [n]', () => {
    const feeds = feedsFor(signature(spec('x', DataType.DT_FLOAT, [-1])), [example({ x: floats(1) }), example({ x: floats(2) }), example({ x: floats(3) })]);
    assert.deepEqual(feeds.x!.dims, [3]);
    assert.deepEqual(Array.from(feeds.x!.data as Float32Array), [1, 2, 3]);
  });

  test('double inputs get float64, int32 inputs int32, string inputs UTF-8 decoded bytes', () => {
    const sig = signature(spec('d', DataType.DT_DOUBLE, [-1, 2]), spec('i', DataType.DT_INT32, [-1]), spec('s', DataType.DT_STRING, [-1, 2]));
    const feeds = feedsFor(sig, [example({ d: floats(0.5, 0.25), i: int64s(-7), s: bytes('héllo', '') })]);
    assert.equal(feeds.d!.type, 'float64');
    assert.deepEqual(Array.from(feeds.d!.data as Float64Array), [0.5, 0.25]);
    assert.equal(feeds.i!.type, 'int32');
    assert.deepEqual(Array.from(feeds.i!.data as Int32Array), [-7]);
    assert.equal(feeds.s!.type, 'string');
    assert.deepEqual(feeds.s!.data, ['héllo', '']);
    assert.deepEqual(feeds.s!.dims, [1, 2]);
  });

  test('int64 values outside int32 are INVALID_ARGUMENT for an int32 input', () => {
    const sig = signature(spec('i', DataType.DT_INT32, [-1]));
    assert.deepEqual(Array.from(feedsFor(sig, [example({ i: int64s(2 ** 31 - 1) }), example({ i: int64s(-(2 ** 31)) })]).i!.data as Int32Array), [2 ** 31 - 1, -(2 ** 31)]);
    throwsWith(() => feedsFor(sig, [example({ i: int64s(1) }), example({ i: int64s(2 ** 31) })]), InvalidArgumentError, /'i' of example 1 has value 2147483648, outside the int32 range/);
  });

  test('context features repeat into every example; an example own value wins on a duplicate key', () => {
    const context = example({ tags: int64s(7, 8), age: floats(100) });
    const feeds = feedsFor(linear, [example({ age: floats(1) }), example({ age: floats(2), tags: int64s(5, 6) }), example({})], context);
    assert.deepEqual(Array.from(feeds.age!.data as Float32Array), [1, 2, 100]);
    assert.deepEqual(Array.from(feeds.tags!.data as BigInt64Array), [7n, 8n, 5n, 6n, 7n, 8n]);
  });

  test('features that feed no input are ignored', () => {
    const feeds = feedsFor(linear, [example({ age: floats(1), tags: int64s(1, 2), extra: bytes('x') })]);
    assert.deepEqual(Object.keys(feeds).sort(), ['age', 'tags']);
  });

  test('feeds are keyed by graph name, features by alias', () => {
    const feeds = feedsFor(signature(spec('age', DataType.DT_FLOAT, [-1], 'graph/age:0')), [example({ age: floats(4) })]);
    assert.deepEqual(Object.keys(feeds), ['graph/age:0']);
  });

  test('one dynamic non-batch dim is inferred from the value count, which must agree across examples', () => {
    const sig = signature(spec('x', DataType.DT_FLOAT, [-1, -1, 2]));
    const feeds = feedsFor(sig, [example({ x: floats(1, 2, 3, 4, 5, 6) }), example({ x: floats(6, 5, 4, 3, 2, 1) })]);
    assert.deepEqual(feeds.x!.dims, [2, 3, 2]);
    throwsWith(() => feedsFor(sig, [example({ x: floats(1, 2) }), example({ x: floats(1, 2, 3, 4) })]), InvalidArgumentError, /Feature 'x' has 2 values in example 0 but 4 in example 1/);
    throwsWith(() => feedsFor(sig, [example({ x: floats(1, 2, 3) })]), InvalidArgumentError, /'x' of example 0 has 3 values.*multiple of 2/);
  });

  test('a missing feature is INVALID_ARGUMENT naming the feature and the example index', () => {
    throwsWith(() => feedsFor(linear, [example({ age: floats(1), tags: int64s(1, 2) }), example({ age: floats(1) })]), InvalidArgumentError, /Example 1 is missing feature 'tags'/);
    throwsWith(() => feedsFor(linear, [{}]), InvalidArgumentError, /Example 0 is missing feature 'age'/);
  });

  test('inherited object keys are not features', () => {
    const sig = signature(spec('constructor', DataType.DT_FLOAT, [-1]));
    throwsWith(() => feedsFor(sig, [example({})]), InvalidArgumentError, /Example 0 is missing feature 'constructor'/);
  });

  test('a feature of the wrong kind is INVALID_ARGUMENT', () => {
    throwsWith(() => feedsFor(linear, [example({ age: int64s(1), tags: int64s(1, 2) })]), InvalidArgumentError, /Feature 'age' of example 0 is an int64_list; model input 'age' is float and needs a float_list/);
    throwsWith(() => feedsFor(linear, [example({ age: floats(1), tags: floats(1, 2) })]), InvalidArgumentError, /'tags' of example 0 is a float_list; .* needs an int64_list/);
    throwsWith(() => feedsFor(linear, [example({ age: bytes('1'), tags: int64s(1, 2) })]), InvalidArgumentError, /'age' of example 0 is a bytes_list/);
    throwsWith(() => feedsFor(linear, [example({ age: {}, tags: int64s(1, 2) })]), InvalidArgumentError, /'age' of example 0 is empty/);
  });

  test('a wrong value count is INVALID_ARGUMENT naming the feature, example and needed count', () => {
    throwsWith(() => feedsFor(linear, [example({ age: floats(1), tags: int64s(1, 2) }), example({ age: floats(1), tags: int64s(1, 2, 3) })]), InvalidArgumentError, /'tags' of example 1 has 3 values; .*shape \[\?,2\], so each example needs exactly 2/);
    throwsWith(() => feedsFor(linear, [example({ age: floats(), tags: int64s(1, 2) })]), InvalidArgumentError, /'age' of example 0 has 0 values/);
  });

  test('the element limit counts context values repeated into every row', () => {
    const context = example({ tags: int64s(1, 2) });
    const examples = Array.from({ length: 3 }, () => example({ age: floats(1) }));
    assert.doesNotThrow(() => feedsFor(linear, examples, context, { maxElements: 6 }));
    throwsWith(() => feedsFor(linear, examples, context, { maxElements: 5 }), InvalidArgumentError, /'tags' would get 6 elements from 3 examples.*limit of 5/);
  });

  test('a sub-range of examples gives a batch of that size', () => {
    const batch = examplesOf({ exampleList: { examples: [example({ x: floats(1) }), example({ x: floats(2) }), example({ x: floats(3) })] } });
    const feeds = feedsFromExamples(planFeeds(signature(spec('x', DataType.DT_FLOAT, [1]))), batch, {}, 1, 2);
    assert.deepEqual(feeds.x!.dims, [1]);
    assert.deepEqual(Array.from(feeds.x!.data as Float32Array), [2]);
  });
});
