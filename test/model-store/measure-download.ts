/**
 * How long the s3:// store takes to materialize a model of N MiB from the loopback S3-compatible
 * server (first download, then a cache hit), and a local file's hash for comparison:
 *   node --import tsx test/model-store/measure-download.ts 256
 * Numbers for docs/model-store.md; not a test (no timing is asserted anywhere).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalModelStore, ModelFileCache, S3ModelStore } from '@maas/model-store';
import { makeTempDir } from '@maas/test-support';
import { startFakeS3 } from './fake-s3-server.js';

const mib = Number(process.argv[2] ?? 256);
const body = randomBytes(mib * 1024 * 1024);
const s3 = await startFakeS3();
s3.createBucket('bench');
s3.put('bench', 'm/1/model.onnx', body);
const store = new S3ModelStore({
  endpoint: s3.endpoint,
  region: s3.region,
  forcePathStyle: true,
  credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  cache: new ModelFileCache(join(makeTempDir(), 'cache')),
});
const time = async (what: string, run: () => Promise<unknown>, movesData = true) => {
  const started = performance.now();
  await run();
  const ms = performance.now() - started;
  console.log(`${what}: ${ms.toFixed(0)} ms${movesData ? ` (${((mib / ms) * 1000).toFixed(0)} MiB/s)` : ''}`);
};
await time(`s3 first download of ${mib} MiB (HEAD + GET + sha256 + write)`, () => store.materialize('s3://bench/m/1/model.onnx'));
await time('s3 cache hit (HEAD only)', () => store.materialize('s3://bench/m/1/model.onnx'), false);
const localFile = join(makeTempDir(), 'model.onnx');
writeFileSync(localFile, body);
await time(`local file of ${mib} MiB (sha256 only)`, () => new LocalModelStore().materialize(localFile));
await s3.close();
