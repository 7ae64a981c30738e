import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { driftPercent, median, percentile, ratio, SampleBuffer, spread, summarizeLatencies } from '../../bench/stats.js';

describe('bench statistics', () => {
  test('percentile is nearest-rank: a value some request really had', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    assert.equal(percentile(sorted, 50), 50);
    assert.equal(percentile(sorted, 95), 95);
    assert.equal(percentile(sorted, 99), 99);
    assert.equal(percentile(sorted, 100), 100);
    assert.equal(percentile(sorted, 0), 1);
    assert.equal(percentile([7, 9], 50), 7);
    assert.equal(percentile([7, 9], 51), 9);
    assert.equal(percentile([42], 99), 42);
    assert.ok(Number.isNaN(percentile([], 50)));
    assert.throws(() => percentile([1], 101), RangeError);
  });

  test('summarizeLatencies sorts numerically, not as strings', () => {
    const summary = summarizeLatencies([10, 9, 100, 1, 2]);
    assert.deepEqual(summary, { count: 5, meanMs: 24.4, p50Ms: 9, p95Ms: 100, p99Ms: 100, maxMs: 100 });
    const empty = summarizeLatencies([]);
    assert.equal(empty.count, 0);
    assert.ok(Number.isNaN(empty.p50Ms) && Number.isNaN(empty.meanMs));
  });

  test('median of odd and even counts, ignoring NaN', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([5, Number.NaN]), 5);
    assert.ok(Number.isNaN(median([])));
  });

  test('spread gives median and range over rounds', () => {
    assert.deepEqual(spread([300, 100, 200]), { median: 200, min: 100, max: 300 });
    assert.ok(Number.isNaN(spread([]).median));
  });

  test('ratio is undefined when a side is missing or the base is not positive', () => {
    assert.equal(ratio(900, 450), 2);
    assert.equal(ratio(undefined, 1), undefined);
    assert.equal(ratio(1, undefined), undefined);
    assert.equal(ratio(1, 0), undefined);
    assert.equal(ratio(Number.NaN, 1), undefined);
  });

  test('driftPercent is relative to the start', () => {
    assert.equal(driftPercent(200, 210), 5);
    assert.equal(driftPercent(200, 190), -5);
  });

  test('SampleBuffer stops at its capacity', () => {
    const buffer = new SampleBuffer(2);
    assert.equal(buffer.push(1), true);
    assert.equal(buffer.push(2), true);
    assert.equal(buffer.full, true);
    assert.equal(buffer.push(3), false);
    assert.deepEqual([...buffer.view()], [1, 2]);
  });
});
