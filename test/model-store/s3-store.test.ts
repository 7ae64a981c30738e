import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { ServingError } from '@maas/errors';
import { ModelFileCache, S3ModelStore, s3OptionsFromEnv } from '@maas/model-store';
import { makeTempDir } from '@maas/test-support';
import { startFakeS3, type FakeS3 } from './fake-s3-server.js';

const sha256 = (bytes: Uint8Array | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const codeOf = (code: number) => (error: ServingError) => error.code === code;

describe('S3ModelStore against an S3-compatible server', () => {
  let s3: FakeS3;
  let cacheDir: string;
  let store: S3ModelStore;
  const storeWith = (secretAccessKey: string) =>
    new S3ModelStore({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey },
      cache: new ModelFileCache(cacheDir),
    });

  before(async () => {
    // Two keys per page, so every scan below pages through ListObjectsV2.
    s3 = await startFakeS3({ pageSize: 2 });
    s3.createBucket('models');
    cacheDir = join(makeTempDir(), 'cache');
    store = storeWith(s3.secretAccessKey);
  });

  after(() => s3.close());

  test('a scan lists numeric version directories holding model.onnx, across pages', async () => {
    s3.put('models', 'zoo/m/1/model.onnx', 'one');
    s3.put('models', 'zoo/m/0007/model.onnx', 'seven');
    s3.put('models', 'zoo/m/7/model.onnx', 'also seven: one of the two wins');
    s3.put('models', 'zoo/m/2/notes.txt', 'no model here');
    s3.put('models', 'zoo/m/3/sub/model.onnx', 'too deep');
    s3.put('models', 'zoo/m/tmp/model.onnx', 'not a number');
    s3.put('models', 'zoo/m/runtime.json', '{}');
    s3.put('models', 'zoo/m2/9/model.onnx', 'another model sharing the prefix text');
    const listsBefore = s3.requests.filter((r) => r.startsWith('LIST')).length;
    const versions = await store.scanVersions('s3://models/zoo/m');
    assert.deepEqual([...versions.keys()].sort((a, b) => a - b), [1, 7]);
    assert.equal(versions.get(1), 's3://models/zoo/m/1/model.onnx');
    assert.match(versions.get(7)!, /^s3:\/\/models\/zoo\/m\/0{0,3}7\/model\.onnx$/);
    assert.ok(s3.requests.filter((r) => r.startsWith('LIST')).length - listsBefore >= 4, 'eight keys at two a page');
    assert.deepEqual(await store.scanVersions('s3://models/zoo/m/'), versions, 'a trailing slash names the same base');
    assert.deepEqual([...(await store.scanVersions('s3://models/zoo/missing')).keys()], [], 'an empty prefix has no versions yet');
    assert.deepEqual(s3.refused, [], 'every request was signed with the key pair');
  });

  test('small files beside a version are read, and a missing one is undefined', async () => {
    s3.put('models', 'zoo/m/1/batching_params.pbtxt', 'max_batch_size { value: 4 }');
    assert.equal(await store.readText('s3://models/zoo/m/1', 'batching_params.pbtxt'), 'max_batch_size { value: 4 }');
    assert.equal(await store.readText('s3://models/zoo/m', 'runtime.json'), '{}');
    assert.equal(await store.readText('s3://models/zoo/m/1', 'absent.pbtxt'), undefined);
  });

  test('a model is downloaded once per ETag, hashed, and downloaded again when it changes', async () => {
    const location = 's3://models/zoo/m/1/model.onnx';
    const gets = () => s3.requests.filter((r) => r === 'GET models/zoo/m/1/model.onnx').length;
    const first = await store.materialize(location);
    assert.equal(readFileSync(first.path, 'utf8'), 'one');
    assert.equal(first.contentHash, sha256('one'));
    assert.ok(first.path.startsWith(cacheDir));
    assert.equal(gets(), 1);

    const [again, concurrent] = await Promise.all([store.materialize(location), storeWith(s3.secretAccessKey).materialize(location)]);
    assert.deepEqual(again, first);
    assert.deepEqual(concurrent, first, 'another store (a restarted worker) on the same cache finds the copy');
    assert.equal(gets(), 1, 'unchanged ETag: no second download');
    assert.ok(s3.requests.includes('HEAD models/zoo/m/1/model.onnx'));

    s3.put('models', 'zoo/m/1/model.onnx', 'one, replaced');
    const replaced = await store.materialize(location);
    assert.equal(readFileSync(replaced.path, 'utf8'), 'one, replaced');
    assert.equal(replaced.contentHash, sha256('one, replaced'));
    assert.equal(gets(), 2);
    const locationDirs = readdirSync(cacheDir).map((d) => readdirSync(join(cacheDir, d)));
    assert.ok(locationDirs.every((entries) => entries.length === 1), `one copy per location is kept: ${JSON.stringify(locationDirs)}`);
  });

  test('a download cut short is retried, and one cut short every time fails UNAVAILABLE with nothing cached', async () => {
    const model = Buffer.alloc(256 * 1024, 7);
    s3.put('models', 'zoo/cut/1/model.onnx', model);
    s3.cutDownloads('zoo/cut/1/model.onnx', 1);
    const local = await store.materialize('s3://models/zoo/cut/1/model.onnx');
    assert.deepEqual(readFileSync(local.path), model);
    assert.equal(local.contentHash, sha256(model));

    s3.put('models', 'zoo/cut/2/model.onnx', model);
    s3.cutDownloads('zoo/cut/2/model.onnx', 10);
    await assert.rejects(store.materialize('s3://models/zoo/cut/2/model.onnx'), codeOf(status.UNAVAILABLE));
    const leftovers = readdirSync(cacheDir).flatMap((d) => readdirSync(join(cacheDir, d)).filter((e) => e.includes('.part-')));
    assert.deepEqual(leftovers, [], 'no partial download is left in the cache');
  });

  test('missing objects and buckets are NOT_FOUND; a wrong secret is PERMISSION_DENIED', async () => {
    await assert.rejects(store.materialize('s3://models/zoo/m/404/model.onnx'), codeOf(status.NOT_FOUND));
    await assert.rejects(store.scanVersions('s3://no-such-bucket/m'), codeOf(status.NOT_FOUND));
    const refusedBefore = s3.refused.length;
    await assert.rejects(storeWith('not-the-secret').scanVersions('s3://models/zoo/m'), codeOf(status.PERMISSION_DENIED));
    assert.ok(s3.refused.length > refusedBefore && s3.refused.at(-1)!.startsWith('signature does not match'), 'the server checked the signature');
  });

  test('settings come from the standard AWS variables', () => {
    assert.deepEqual(s3OptionsFromEnv({ AWS_ENDPOINT_URL: 'http://minio:9000', AWS_REGION: 'eu-west-3', AWS_S3_FORCE_PATH_STYLE: 'true' }), {
      endpoint: 'http://minio:9000',
      region: 'eu-west-3',
      forcePathStyle: true,
    });
    assert.deepEqual(s3OptionsFromEnv({ AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_S3: 'http://s3-only', AWS_DEFAULT_REGION: 'ap-south-1' }), {
      endpoint: 'http://s3-only',
      region: 'ap-south-1',
      forcePathStyle: false,
    });
    assert.deepEqual(s3OptionsFromEnv({}), { endpoint: undefined, region: 'us-east-1', forcePathStyle: false });
  });
});
