import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { startLocalRedis, type LocalRedis } from '@maas/cli';
import { JobStore, type JobRecord } from '@maas/batch-jobs';

function record(id: string, createdAt: number, maxFailedRows = 2): JobRecord {
  return {
    id,
    state: 'QUEUED',
    model: { name: 'm', version: 3, signatureName: '' },
    inputPath: '/in.jsonl',
    outputPath: '/out.jsonl',
    rowsPerChunk: 10,
    priority: 5,
    maxFailedRows,
    totalRows: 30,
    totalChunks: 3,
    rowsDone: 0,
    rowsFailed: 0,
    chunksDone: 0,
    error: '',
    firstError: '',
    resultsPath: '',
    createdAt,
    startedAt: 0,
    finishedAt: 0,
  };
}

describe('JobStore against a real Redis', () => {
  let redis: LocalRedis;
  let client: Redis;
  let store: JobStore;

  before(async () => {
    redis = await startLocalRedis();
    client = new Redis(redis.url);
    store = new JobStore(client, 'test:');
  });
  after(async () => {
    client.disconnect();
    await redis.stop();
  });

  test('a record reads back as written; jobs list newest first; keys carry the prefix', async () => {
    await store.create(record('a', 1000));
    await store.create(record('b', 2000));
    assert.deepEqual(await store.get('a'), record('a', 1000));
    assert.equal(await store.get('nope'), undefined);
    assert.deepEqual((await store.list(10)).map((r) => r.id), ['b', 'a']);
    assert.deepEqual((await client.keys('*')).sort(), ['test:batch:job:a', 'test:batch:job:b', 'test:batch:jobs']);
  });

  test('a chunk recorded twice counts once, with its latest counts; the error of the lowest failed row is kept', async () => {
    await store.create(record('c', 3000));
    assert.equal(await store.markStarted('c', 3100), 'RUNNING');
    assert.equal(await store.markStarted('c', 3200), 'RUNNING');
    await store.recordChunk('c', 1, { rows: 10, failed: 1, firstError: 'row 12: worse', firstErrorRow: 12 });
    await store.recordChunk('c', 0, { rows: 10, failed: 1, firstError: 'row 3: bad', firstErrorRow: 3 });
    await store.recordChunk('c', 0, { rows: 10, failed: 0, firstError: '', firstErrorRow: -1 });
    const c = (await store.get('c'))!;
    assert.deepEqual([c.state, c.startedAt, c.chunksDone, c.rowsDone, c.rowsFailed, c.firstError], ['RUNNING', 3100, 2, 20, 1, 'row 3: bad']);
  });

  test('more failed rows than the budget moves the job to FAILING with the reason', async () => {
    await store.create(record('d', 4000, 2));
    assert.equal(await store.recordChunk('d', 0, { rows: 10, failed: 2, firstError: 'row 1: x', firstErrorRow: 1 }), 'QUEUED');
    assert.equal(await store.recordChunk('d', 1, { rows: 10, failed: 1, firstError: 'row 11: y', firstErrorRow: 11 }), 'FAILING');
    assert.match((await store.get('d'))!.error, /^3 rows failed, more than the failure budget of 2; first error: row 1: x$/);
    assert.equal(await store.stop('d', 'CANCELLING', 'too late'), 'FAILING');
  });

  test('stop and finish change a job once; an ended job records nothing more', async () => {
    await store.create(record('e', 5000));
    assert.equal(await store.stop('e', 'CANCELLING', 'cancelled by request'), 'CANCELLING');
    assert.equal(await store.finish('e', { state: 'CANCELLED', resultsPath: '/out.jsonl.partial', extraFailedRows: 0, error: '' }, 6000), 'CANCELLED');
    assert.equal(await store.finish('e', { state: 'COMPLETED', resultsPath: '/out.jsonl', extraFailedRows: 5, error: '' }, 7000), 'CANCELLED');
    assert.equal(await store.recordChunk('e', 2, { rows: 10, failed: 0, firstError: '', firstErrorRow: -1 }), 'CANCELLED');
    const e = (await store.get('e'))!;
    assert.deepEqual([e.state, e.resultsPath, e.finishedAt, e.rowsDone, e.error], ['CANCELLED', '/out.jsonl.partial', 6000, 0, 'cancelled by request']);
    assert.equal(await store.stop('missing', 'CANCELLING', 'x'), undefined);
  });
});
