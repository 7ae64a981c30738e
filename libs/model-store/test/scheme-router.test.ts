import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { ServingError } from '@maas/errors';
import type { LocalModel, ModelStore } from '../src/model-store.js';
import { SchemeRouter } from '../src/scheme-router.js';

/** Records which store each call reached. */
function recording(name: string, calls: string[]): ModelStore {
  return {
    scanVersions: async (base) => (calls.push(`${name} scan ${base}`), new Map()),
    readText: async (dir, file) => (calls.push(`${name} read ${dir} ${file}`), undefined),
    materialize: async (location): Promise<LocalModel> => (calls.push(`${name} materialize ${location}`), { path: location, contentHash: '' }),
  };
}

test('each call goes to the store its scheme names; the S3 store is built once, on first use', async () => {
  const calls: string[] = [];
  let built = 0;
  const router = new SchemeRouter({ local: recording('local', calls), s3: () => (built++, recording('s3', calls)) });
  await router.scanVersions('/models/m');
  await router.readText('file:///models/m', 'runtime.json');
  assert.equal(built, 0);
  await router.scanVersions('s3://b/m');
  await router.materialize('S3://b/m/1/model.onnx');
  assert.equal(built, 1);
  assert.deepEqual(calls, ['local scan /models/m', 'local read file:///models/m runtime.json', 's3 scan s3://b/m', 's3 materialize S3://b/m/1/model.onnx']);
  await assert.rejects(
    router.scanVersions('gs://b/m'),
    (e: ServingError) => e.code === status.UNIMPLEMENTED && e.message === "File system scheme 'gs' not implemented (file: 'gs://b/m')",
  );
});
