import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '@maas/errors';
import { batchingHeaders, batchingHintsFrom } from '../src/index.js';

const from = (headers: Record<string, string>) => batchingHintsFrom((name) => headers[name]);

test('batching hints are read from x-maas-priority and x-maas-queue-timeout-ms, and passed on unchanged', () => {
  assert.deepEqual(from({}), {});
  const hints = from({ 'x-maas-priority': '2', 'x-maas-queue-timeout-ms': '250' });
  assert.deepEqual(hints, { priority: 2, queueTimeoutMs: 250 });
  assert.deepEqual(batchingHeaders(hints), [['x-maas-priority', '2'], ['x-maas-queue-timeout-ms', '250']]);
  assert.deepEqual(batchingHeaders({}), []);
  assert.deepEqual(from({ 'x-maas-queue-timeout-ms': '0' }), { queueTimeoutMs: 0 }, '0: no queue timeout');
});

test('malformed hints are INVALID_ARGUMENT naming the header', () => {
  const invalid = (headers: Record<string, string>, message: RegExp) =>
    assert.throws(() => from(headers), (e: unknown) => e instanceof InvalidArgumentError && message.test(e.message));
  for (const bad of ['0', '-1', '1.5', 'high', '', '1e3']) invalid({ 'x-maas-priority': bad }, /^x-maas-priority must be a priority level >= 1/);
  for (const bad of ['-1', '2.5', 'soon', '', '99999999999999999999']) invalid({ 'x-maas-queue-timeout-ms': bad }, /^x-maas-queue-timeout-ms must be a non-negative integer/);
});
