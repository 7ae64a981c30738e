import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { ServingError } from '@maas/errors';
import { makeTempDir, writeModelVersion } from '@maas/test-support';
import { LocalModelStore } from '../src/local-store.js';

const store = new LocalModelStore();

function repository(): string {
  // A space in the path: file:// URIs carry it percent-encoded.
  const base = join(makeTempDir(), 'my model');
  writeModelVersion(base, 1, Buffer.from('one'));
  writeModelVersion(base, '0007', Buffer.from('seven'));
  writeModelVersion(base, 'tmp', Buffer.from('not a version'));
  mkdirSync(join(base, '2')); // a version directory without its model file yet
  writeFileSync(join(base, 'runtime.json'), '{"instances": 2}');
  return base;
}

test('a path base lists its numeric version directories holding model.onnx', async () => {
  const base = repository();
  assert.deepEqual(await store.scanVersions(base), new Map([[1, join(base, '1', 'model.onnx')], [7, join(base, '0007', 'model.onnx')]]));
  assert.deepEqual(await store.scanVersions(join(base, 'missing')), new Map(), 'a missing base has no versions yet');
});

test('a file:// base lists the same versions, as file:// locations', async () => {
  const base = repository();
  const uri = pathToFileURL(base).href;
  assert.match(uri, /my%20model$/);
  const versions = await store.scanVersions(uri);
  assert.deepEqual([...versions.keys()].sort(), [1, 7]);
  assert.equal(versions.get(1), `${uri}/1/model.onnx`);
  const local = await store.materialize(versions.get(1)!);
  assert.equal(local.path, join(base, '1', 'model.onnx'), 'the local file itself, nothing copied');
  assert.equal(await store.readText(uri, 'runtime.json'), '{"instances": 2}');
});

test('materialize hashes the file; small files are read or undefined; a missing model is NOT_FOUND', async () => {
  const base = repository();
  const local = await store.materialize(join(base, '1', 'model.onnx'));
  assert.equal(local.contentHash, `sha256:${createHash('sha256').update('one').digest('hex')}`);
  assert.equal(await store.readText(base, 'runtime.json'), '{"instances": 2}');
  assert.equal(await store.readText(join(base, '1'), 'batching_params.pbtxt'), undefined);
  assert.equal(await store.readText(join(base, 'runtime.json'), 'x'), undefined, 'a file where a directory should be: no file');
  await assert.rejects(store.materialize(join(base, '2', 'model.onnx')), (e: ServingError) => e.code === status.NOT_FOUND);
});
