import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recycleBody, takeBodyBuffer } from '../src/rest/body-buffers.js';

test('a recycled body buffer serves the next body of about its size', () => {
  const first = takeBodyBuffer(3_000_000);
  assert.equal(first.length, 3_000_000);
  recycleBody(first);
  const second = takeBodyBuffer(2_500_000);
  assert.equal(second.length, 2_500_000);
  assert.equal(second.buffer, first.buffer);
  // Taken back once only: a second recycle of the same body is ignored.
  recycleBody(second);
  recycleBody(second);
  const third = takeBodyBuffer(2_500_000);
  const fourth = takeBodyBuffer(2_500_000);
  assert.equal(third.buffer, first.buffer);
  assert.notEqual(fourth.buffer, first.buffer);
  recycleBody(third);
  recycleBody(fourth);
});

test('huge bodies and buffers from elsewhere are never kept', () => {
  const huge = takeBodyBuffer(20 * 1024 * 1024);
  recycleBody(huge);
  assert.notEqual(takeBodyBuffer(20 * 1024 * 1024).buffer, huge.buffer);
  const foreign = Buffer.from(new ArrayBuffer(4 * 1024 * 1024));
  recycleBody(foreign);
  assert.notEqual(takeBodyBuffer(4 * 1024 * 1024).buffer, foreign.buffer);
});

test('at most 32 MiB is kept: past it the smallest spare buffers go', () => {
  const taken = Array.from({ length: 6 }, () => takeBodyBuffer(8 * 1024 * 1024));
  const small = takeBodyBuffer(100 * 1024);
  recycleBody(small);
  for (const body of taken) recycleBody(body);
  const again = Array.from({ length: 6 }, () => takeBodyBuffer(8 * 1024 * 1024));
  const reused = again.filter((body) => taken.some((t) => t.buffer === body.buffer));
  assert.equal(reused.length, 4);
  assert.notEqual(takeBodyBuffer(100 * 1024).buffer, small.buffer);
});
