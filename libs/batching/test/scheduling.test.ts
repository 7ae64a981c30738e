import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { DeadlineExceededError, ResourceExhaustedError, UnavailableError } from '@maas/errors';
import { addConstantModel } from '@maas/test-support';
import { DynamicBatcher } from '../src/index.js';
import { floatRows, gate, nextTurn, options, recordingRun, settle, sleep, timerCount } from './helpers.js';

let addOne: ort.InferenceSession;

before(async () => {
  addOne = await ort.InferenceSession.create(addConstantModel(1));
});

test('a lone request waits about batchTimeoutMicros, not much longer', { timeout: 20_000 }, async () => {
  const rec = recordingRun(addOne);
  const batcher = new DynamicBatcher('m:1', options({ maxBatchSize: 8, batchTimeoutMicros: 400_000 }), rec.run);
  const started = Date.now();
  const out = await batcher.submit({ x: floatRows(1, 2, 5) });
  const elapsed = Date.now() - started;
  assert.deepEqual(Array.from(out.y?.data as Float32Array), [6, 7]);
  assert.ok(elapsed >= 350, `launched after ${elapsed} ms, before the 400 ms batch timeout`);
  assert.ok(elapsed < 3_000, `launched after ${elapsed} ms, far beyond the 400 ms batch timeout`);
  await batcher.close();
});

test('the timeout counts from the oldest request: later arrivals join its batch', { timeout: 20_000 }, async () => {
  const rec = recordingRun(addOne);
  const batcher = new DynamicBatcher('m:1', options({ maxBatchSize: 8, batchTimeoutMicros: 600_000 }), rec.run);
  const started = Date.now();
  const first = batcher.submit({ x: floatRows(1, 2, 0) });
  await sleep(200);
  const second = batcher.submit({ x: floatRows(1, 2, 10) });
  await Promise.all([first, second]);
  const elapsed = Date.now() - started;
  assert.deepEqual(
    rec.calls.map((c) => c.batchSize),
    [2],
  );
  assert.ok(elapsed < 3_000, `took ${elapsed} ms; the clock must start at the oldest request`);
  await batcher.close();
});

test('a full batch launches without waiting for the timeout', { timeout: 20_000 }, async () => {
  const rec = recordingRun(addOne);
  const batcher = new DynamicBatcher('m:1', options({ maxBatchSize: 4, batchTimeoutMicros: 30_000_000 }), rec.run);
  const started = Date.now();
  await Promise.all(Array.from({ length: 4 }, (_, i) => batcher.submit({ x: floatRows(1, 2, i) })));
  assert.ok(Date.now() - started < 3_000);
  assert.deepEqual(
    rec.calls.map((c) => c.batchSize),
    [4],
  );
  await batcher.close();
});

test('reaching a preferred batch size launches at once', { timeout: 20_000 }, async () => {
  const rec = recordingRun(addOne);
  const batcher = new DynamicBatcher(
    'm:1',
    options({ maxBatchSize: 8, batchTimeoutMicros: 30_000_000, preferredBatchSizes: [2, 4] }),
    rec.run,
  );
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: 3 }, (_, i) => batcher.submit({ x: floatRows(1, 2, i) })).slice(0, 2));
  assert.ok(Date.now() - started < 3_000);
  assert.equal(rec.calls[0]?.batchSize, 2); // largest preferred size that was queued (3 rows -> 2)
  assert.equal(results.length, 2);
  assert.equal(batcher.queuedRows, 1);
  await batcher.close(); // drains the third request
  assert.equal(rec.calls.length, 2);
});

test('higher-priority requests are taken first', { timeout: 20_000 }, async () => {
  const g = gate();
  const order: number[] = [];
  const rec = recordingRun(addOne, async (call) => {
    order.push((call.inputs.x?.data as Float32Array)[0] as number);
    if (call === rec.calls[0]) await g.wait();
  });
  const batcher = new DynamicBatcher('m:1', options({ maxBatchSize: 1, priorityLevels: 3, defaultPriority: 2 }), rec.run);
  const blocker = batcher.submit({ x: floatRows(1, 1, 0) });
  await g.started;
  const submitted = [
    batcher.submit({ x: floatRows(1, 1, 31) }, { priority: 3 }),
    batcher.submit({ x: floatRows(1, 1, 21) }), // default priority 2
    batcher.submit({ x: floatRows(1, 1, 11) }, { priority: 1 }),
    batcher.submit({ x: floatRows(1, 1, 32) }, { priority: 3 }),
    batcher.submit({ x: floatRows(1, 1, 12) }, { priority: 1 }),
  ];
  await nextTurn();
  g.open();
  await Promise.all([blocker, ...submitted]);
  assert.deepEqual(order, [0, 11, 12, 21, 31, 32]);
  await batcher.close();
});

test('a request whose deadline has passed is rejected without running', { timeout: 20_000 }, async () => {
  const rec = recordingRun(addOne);
  const batcher = new DynamicBatcher('m:1', options(), rec.run);
  const { error } = await settle(batcher.submit({ x: floatRows(1, 2) }, { deadline: Date.now() - 1 }));
  assert.ok(error instanceof DeadlineExceededError, String(error));
  assert.match(error.message, /m:1/);
  await nextTurn();
  assert.equal(rec.calls.length, 0);
  await batcher.close();
});

test('a request that cannot finish before its deadline (estimated batch latency) is rejected without running', { timeout: 20_000 }, async () => {
  const rec = recordingRun(addOne, () => sleep(300));
  const batcher = new DynamicBatcher('m:1', options(), rec.run);
  await batcher.submit({ x: floatRows(1, 2) }); // teaches the batcher that a batch takes ~300 ms
  assert.ok((batcher.estimatedBatchLatencyMs ?? 0) >= 250);
  const { error } = await settle(batcher.submit({ x: floatRows(1, 2) }, { deadline: Date.now() + 100 }));
  assert.ok(error instanceof DeadlineExceededError, String(error));
  assert.match(error.message, /would be exceeded/);
  await nextTurn();
  assert.equal(rec.calls.length, 1);
  // A generous deadline still runs.
  await batcher.submit({ x: floatRows(1, 2) }, { deadline: Date.now() + 10_000 });
  assert.equal(rec.calls.length, 2);
  await batcher.close();
});

test('a partial batch launches early when its tightest deadline would otherwise be missed', { timeout: 20_000 }, async () => {
  const rec = recordingRun(addOne);
  const batcher = new DynamicBatcher('m:1', options({ maxBatchSize: 8, batchTimeoutMicros: 30_000_000 }), rec.run);
  const started = Date.now();
  const relaxed = batcher.submit({ x: floatRows(1, 2, 0) });
  const urgent = batcher.submit({ x: floatRows(1, 2, 10) }, { deadline: Date.now() + 1_500 });
  const [r1, r2] = await Promise.all([relaxed, urgent]);
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 5_000, `launched after ${elapsed} ms; the batch timeout is 30 s`);
  assert.deepEqual(
    rec.calls.map((c) => c.batchSize),
    [2],
  );
  assert.deepEqual(Array.from(r1?.y?.data as Float32Array), [1, 2]);
  assert.deepEqual(Array.from(r2?.y?.data as Float32Array), [11, 12]);
  await batcher.close();
});

test('a request queued longer than its queueTimeoutMs is rejected: timed out in the queue', { timeout: 20_000 }, async () => {
  const g = gate();
  const rec = recordingRun(addOne, (call) => (call === rec.calls[0] ? g.wait() : undefined));
  const batcher = new DynamicBatcher('m:1', options({ maxBatchSize: 1 }), rec.run);
  const blocker = batcher.submit({ x: floatRows(1, 2) });
  await g.started;
  const started = Date.now();
  const { error } = await settle(batcher.submit({ x: floatRows(1, 2) }, { queueTimeoutMs: 150 }));
  const waited = Date.now() - started;
  assert.ok(error instanceof DeadlineExceededError, String(error));
  assert.match(error.message, /timed out in the queue/);
  assert.ok(waited >= 100, `rejected after ${waited} ms`);
  assert.equal(batcher.queuedRows, 0);
  // A deadline that passes while queued is rejected too (the batch thread is still busy).
  const late = await settle(batcher.submit({ x: floatRows(1, 2) }, { deadline: Date.now() + 150 }));
  assert.ok(late.error instanceof DeadlineExceededError, String(late.error));
  assert.match(late.error.message, /Deadline exceeded while queued/);
  g.open();
  await blocker;
  assert.equal(rec.calls.length, 1);
  await batcher.close();
});

test('a full queue rejects at once with UNAVAILABLE naming the model and limit', { timeout: 20_000 }, async () => {
  const g = gate();
  const rec = recordingRun(addOne, (call) => (call === rec.calls[0] ? g.wait() : undefined));
  const batcher = new DynamicBatcher('m:1', options({ maxBatchSize: 2, maxEnqueuedBatches: 1 }), rec.run);
  const inFlight = batcher.submit({ x: floatRows(2, 2) });
  await g.started;
  const queued = [batcher.submit({ x: floatRows(1, 2) }), batcher.submit({ x: floatRows(1, 2) })];
  assert.equal(batcher.queuedRows, 2);
  // Still blocked by the gate: the rejection must not wait for the queue to move.
  const { error } = await settle(batcher.submit({ x: floatRows(1, 2) }));
  assert.ok(error instanceof UnavailableError, String(error));
  assert.equal(
    error.message,
    'The batch scheduling queue to which this task was submitted is full (model m:1, limit 1 batches of 2)',
  );
  assert.equal(rec.calls.length, 1);
  g.open();
  await Promise.all([inFlight, ...queued]);
  await batcher.close();
});

test('overloadStatus RESOURCE_EXHAUSTED; each priority level has its own bounded queue', { timeout: 20_000 }, async () => {
  const g = gate();
  const rec = recordingRun(addOne, (call) => (call === rec.calls[0] ? g.wait() : undefined));
  const batcher = new DynamicBatcher(
    'm:2',
    options({ maxBatchSize: 2, maxEnqueuedBatches: 1, priorityLevels: 2, overloadStatus: 'RESOURCE_EXHAUSTED' }),
    rec.run,
  );
  const inFlight = batcher.submit({ x: floatRows(1, 2) });
  await g.started;
  const low = batcher.submit({ x: floatRows(2, 2) }, { priority: 2 });
  const { error } = await settle(batcher.submit({ x: floatRows(1, 2) }, { priority: 2 }));
  assert.ok(error instanceof ResourceExhaustedError, String(error));
  assert.match(error.message, /is full \(model m:2, priority 2, limit 1 batches of 2\)/);
  const high = batcher.submit({ x: floatRows(2, 2) }, { priority: 1 }); // level 1 still has room
  assert.equal(batcher.queuedRows, 4);
  g.open();
  await Promise.all([inFlight, low, high]);
  await batcher.close();
});

test('close() runs queued work at once, waits for in-flight work, then refuses new requests and leaves no timers', { timeout: 20_000 }, async () => {
  const timersBefore = timerCount();
  const g = gate();
  const rec = recordingRun(addOne, (call) => (call === rec.calls[0] ? g.wait() : undefined));
  const batcher = new DynamicBatcher('m:1', options({ maxBatchSize: 2, batchTimeoutMicros: 30_000_000 }), rec.run);
  const first = batcher.submit({ x: floatRows(2, 2, 0) }); // full: launches and blocks on the gate
  await g.started;
  const waiting = [batcher.submit({ x: floatRows(1, 2, 10) }), batcher.submit({ x: floatRows(1, 3, 20) })];
  let closed = false;
  const closing = batcher.close().then(() => (closed = true));
  const refused = await settle(batcher.submit({ x: floatRows(1, 2) }));
  assert.ok(refused.error instanceof UnavailableError, String(refused.error));
  await sleep(50);
  assert.equal(closed, false, 'close() resolved while a batch was still running');
  const started = Date.now();
  g.open();
  const results = await Promise.all([first, ...waiting]);
  await closing;
  assert.ok(Date.now() - started < 3_000, 'queued requests waited for the 30 s batch timeout');
  assert.deepEqual(Array.from(results[2]?.y?.data as Float32Array), [21, 22, 23]);
  assert.equal(batcher.inFlightBatches, 0);
  assert.equal(batcher.queuedRows, 0);
  assert.equal(timerCount(), timersBefore);
});

test('no timer is left armed once the queue is empty', { timeout: 20_000 }, async () => {
  const timersBefore = timerCount();
  const rec = recordingRun(addOne);
  const batcher = new DynamicBatcher('m:1', options({ batchTimeoutMicros: 50_000 }), rec.run);
  await Promise.all([
    batcher.submit({ x: floatRows(1, 2) }, { deadline: Date.now() + 60_000, queueTimeoutMs: 60_000 }),
    batcher.submit({ x: floatRows(1, 2) }),
  ]);
  await nextTurn();
  assert.equal(timerCount(), timersBefore);
  await batcher.close();
});

test('defaultQueueTimeoutMs applies to requests that give none; queueTimeoutMs 0 opts out', { timeout: 20_000 }, async () => {
  const g = gate();
  const rec = recordingRun(addOne, (call) => (call === rec.calls[0] ? g.wait() : undefined));
  const batcher = new DynamicBatcher('m:1', options({ maxBatchSize: 1, defaultQueueTimeoutMs: 100 }), rec.run);
  const blocker = batcher.submit({ x: floatRows(1, 2) });
  await g.started;
  const patient = settle(batcher.submit({ x: floatRows(1, 2) }, { queueTimeoutMs: 0 }));
  const { error } = await settle(batcher.submit({ x: floatRows(1, 2) }));
  assert.ok(error instanceof DeadlineExceededError, String(error));
  assert.match(error.message, /timed out in the queue after \d+ ms \(queue timeout 100 ms/);
  assert.equal(batcher.queuedRows, 1, 'the opted-out request is still queued');
  g.open();
  await blocker;
  assert.equal((await patient).error, undefined);
  await batcher.close();
});
