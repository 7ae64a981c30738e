import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tuneHeapForMessageBuffers } from '../src/grpc/heap-tuning.js';

test('a growing percent the process was started with is left as it is', () => {
  assert.equal(tuneHeapForMessageBuffers(['--heap-growing-percent=50'], ''), false);
  assert.equal(tuneHeapForMessageBuffers([], '--max-old-space-size=512 --heap_growing_percent=50'), false);
});

test('without one, the serving processes get theirs', () => {
  assert.equal(tuneHeapForMessageBuffers(['--import', 'tsx'], '--max-old-space-size=512'), true);
});
