import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { ServingError } from '@maas/errors';
import { makeTempDir } from '@maas/test-support';
import { ModelFileCache, type RemoteFile } from '../src/model-file-cache.js';

function remote(content: string, etag: string, opened: string[], size = content.length): RemoteFile {
  return {
    location: 's3://b/m/1/model.onnx',
    etag,
    size,
    open: async () => {
      opened.push(etag);
      return Readable.from([Buffer.from(content)]);
    },
  };
}

test('one download per ETag, shared by concurrent loads and by a new cache on the same directory', async () => {
  const root = join(makeTempDir(), 'cache');
  const opened: string[] = [];
  const cache = new ModelFileCache(root);
  const [a, b] = await Promise.all([cache.fetch(remote('v1', '"e1"', opened)), cache.fetch(remote('v1', '"e1"', opened))]);
  assert.deepEqual(a, b);
  assert.equal(readFileSync(a.path, 'utf8'), 'v1');
  assert.equal(readFileSync(join(a.path, '..', 'content-hash'), 'utf8'), a.contentHash);
  assert.deepEqual(await new ModelFileCache(root).fetch(remote('v1', '"e1"', opened)), a);
  assert.deepEqual(opened, ['"e1"']);

  const changed = await cache.fetch(remote('v2', '"e2"', opened));
  assert.equal(readFileSync(changed.path, 'utf8'), 'v2');
  assert.notEqual(changed.contentHash, a.contentHash);
  assert.ok(!existsSync(a.path), 'the older copy of the location is pruned');
  assert.deepEqual(opened, ['"e1"', '"e2"']);
});

test('a short download is refused (UNAVAILABLE) and leaves nothing behind', async () => {
  const root = join(makeTempDir(), 'cache');
  const cache = new ModelFileCache(root);
  await assert.rejects(cache.fetch(remote('short', '"e1"', [], 100)), (e: ServingError) => e.code === status.UNAVAILABLE && /expected 100/.test(e.message));
  const entries = readdirSync(root).flatMap((d) => readdirSync(join(root, d)));
  assert.deepEqual(entries, []);
});
