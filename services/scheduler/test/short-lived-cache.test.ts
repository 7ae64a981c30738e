import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShortLivedCache } from '../src/cluster/short-lived-cache.js';

test('an answer is reused within its TTL, shared by concurrent askers, and asked again after it', async () => {
  let now = 0;
  let loads = 0;
  const cache = new ShortLivedCache<number>(1000, () => now);
  const load = async () => ++loads;
  assert.deepEqual(await Promise.all([cache.get('a', load), cache.get('a', load)]), [1, 1]);
  now = 999;
  assert.equal(await cache.get('a', load), 1);
  assert.equal(await cache.get('b', load), 2, 'keys are apart');
  now = 1000;
  assert.equal(await cache.get('a', load), 3);
});

test('a failure is not remembered', async () => {
  const cache = new ShortLivedCache<string>(1000, () => 0);
  await assert.rejects(cache.get('a', () => Promise.reject(new Error('worker gone'))), /worker gone/);
  assert.equal(await cache.get('a', async () => 'ok'), 'ok');
});
