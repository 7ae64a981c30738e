import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { startLocalRedis, type LocalRedis } from '@maas/cli';
import { buildOnnxModel, loadTfServingClients, makeTempDir, startMaas, writeModelVersion, type ServeProcess, type UnaryError } from '@maas/test-support';

/**
 * y = x, after a chain of SIZE x SIZE matrix products that depend on the input (so onnxruntime
 * cannot fold them at load time): every run takes long enough that requests sent behind one
 * pile up in the batch queue, whatever the machine's load. Ordering, not timing, is asserted.
 */
const SIZE = 640;
// ~10 GFLOP a run (~130 ms on one core here): even a core twice as fast needs far over 25 ms, so two runs outlast a 50 ms queue timeout.
const PRODUCTS = 40;

function slowModel(): Uint8Array {
  const nodes = [
    { op: 'ReduceSum', inputs: ['x'], outputs: ['sum'], attributes: { keepdims: 1 } },
    { op: 'Mul', inputs: ['sum', 'zero'], outputs: ['nothing'] },
    { op: 'Add', inputs: ['square', 'nothing'], outputs: ['m0'] },
  ];
  for (let i = 0; i < PRODUCTS; i++) nodes.push({ op: 'MatMul', inputs: [`m${i}`, 'm0'], outputs: [`m${i + 1}`] });
  nodes.push(
    { op: 'ReduceSum', inputs: [`m${PRODUCTS}`], outputs: ['total'], attributes: { keepdims: 1 } },
    { op: 'Mul', inputs: ['total', 'zero'], outputs: ['none'] },
    { op: 'Add', inputs: ['x', 'none'], outputs: ['y'] },
  );
  return buildOnnxModel({
    inputs: [{ name: 'x', type: 'float32', shape: ['batch', 1] }],
    outputs: [{ name: 'y', type: 'float32', shape: ['batch', 1] }],
    initializers: [
      { name: 'zero', type: 'float32', dims: [], values: [0] },
      { name: 'square', type: 'float32', dims: [SIZE, SIZE], values: new Array<number>(SIZE * SIZE).fill(0) },
    ],
    nodes,
  });
}

type Clients = ReturnType<typeof loadTfServingClients>;
type Response = { outputs: Record<string, { tensor_content: Buffer }> };
const value = (r: Response) => new Float32Array(new Uint8Array(r.outputs.y!.tensor_content).buffer)[0];

/** Predict with the batching hint headers as gRPC metadata. */
function predict(clients: Clients, x: number, headers: Record<string, string> = {}): Promise<Response> {
  const metadata = new grpc.Metadata();
  for (const [name, v] of Object.entries(headers)) metadata.set(name, v);
  const request = {
    model_spec: { name: 'slow' },
    inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }, { size: '1' }] }, tensor_content: Buffer.from(Float32Array.of(x).buffer) } },
  };
  const client = clients.prediction as unknown as { Predict: Function };
  return new Promise((resolve, reject) =>
    client.Predict(request, metadata, { deadline: Date.now() + 120_000 }, (error: UnaryError | null, response: Response) => (error ? reject(error) : resolve(response))),
  );
}

/** Settles every call, recording the order in which they finished. */
function tracker() {
  const finished: string[] = [];
  const track = (name: string, call: Promise<Response>) =>
    call.then(
      (response) => {
        finished.push(name);
        return { name, response };
      },
      (error: UnaryError) => {
        finished.push(name);
        return { name, error };
      },
    );
  return { finished, track };
}

/**
 * The slow model and its batching file. One row per batch and one batch at a time: requests run
 * strictly one after another, in the order the batcher takes them. Each level holds 3 rows; the
 * blockers always go to level 1.
 */
function slowModelDir(): string {
  const dir = makeTempDir();
  writeModelVersion(join(dir, 'slow'), 1, slowModel());
  writeFileSync(
    join(dir, 'batching.config'),
    `max_batch_size { value: 1 }
     batch_timeout_micros { value: 0 }
     max_enqueued_batches { value: 3 }
     num_batch_threads { value: 1 }
     priority_levels { value: 2 }
     default_priority_level { value: 2 }
     overload_status { value: "RESOURCE_EXHAUSTED" }`,
  );
  return dir;
}

const HIGH = { 'x-maas-priority': '1' };
const LOW = { 'x-maas-priority': '2' };

describe('batching priorities, queue timeouts and per-level queues through maas serve', () => {
  let server: ServeProcess;
  let clients: Clients;

  before(async () => {
    const dir = slowModelDir();
    server = await startMaas([
      'serve', '--port=0', '--grpc_host=127.0.0.1', '--rest_api_port=-1', '--model_name=slow', `--model_base_path=${join(dir, 'slow')}`,
      '--enable_batching', `--batching_parameters_file=${join(dir, 'batching.config')}`,
    ]);
    clients = loadTfServingClients(`127.0.0.1:${server.grpcPort}`);
  });

  after(async () => {
    clients?.close();
    await server?.stop();
  });

  test('high-priority requests sent after queued low-priority ones run first', { timeout: 120_000 }, async () => {
    const { finished, track } = tracker();
    const calls = [track('blocker', predict(clients, 0, HIGH))];
    for (const i of [1, 2, 3]) calls.push(track(`low${i}`, predict(clients, i, LOW)));
    for (const i of [1, 2]) calls.push(track(`high${i}`, predict(clients, 10 + i, HIGH)));
    const outcomes = await Promise.all(calls);
    for (const o of outcomes) assert.ok('response' in o, `${o.name} succeeded: ${'error' in o ? o.error.details : ''}`);
    assert.deepEqual(outcomes.map((o) => ('response' in o ? value(o.response) : NaN)), [0, 1, 2, 3, 11, 12], 'each got its own answer');
    const lastHigh = Math.max(finished.indexOf('high1'), finished.indexOf('high2'));
    const firstLow = Math.min(finished.indexOf('low1'), finished.indexOf('low2'), finished.indexOf('low3'));
    assert.ok(lastHigh < firstLow, `both high-priority requests finished before any low-priority one: ${finished.join(', ')}`);
    assert.deepEqual(finished.filter((n) => n.startsWith('low')), ['low1', 'low2', 'low3'], 'FIFO within a level');
  });

  test('a request still queued after its x-maas-queue-timeout-ms is rejected, the others run', { timeout: 120_000 }, async () => {
    const { track } = tracker();
    const blockers = [track('blocker1', predict(clients, 1, HIGH)), track('blocker2', predict(clients, 2, HIGH))];
    const timed = await track('timed', predict(clients, 3, { ...LOW, 'x-maas-queue-timeout-ms': '50' }));
    assert.ok('error' in timed, 'the request behind two slow runs timed out in the queue');
    assert.equal(timed.error.code, grpc.status.DEADLINE_EXCEEDED);
    assert.match(timed.error.details, /timed out in the queue after \d+ ms \(queue timeout 50 ms, model slow:1\)/);
    for (const b of await Promise.all(blockers)) assert.ok('response' in b, `${b.name} ran`);
    const patient = await predict(clients, 4, { 'x-maas-queue-timeout-ms': '60000' });
    assert.equal(value(patient), 4, 'a long queue timeout is no obstacle');
  });

  test('a full level answers its overload status at once; the other level still queues', { timeout: 120_000 }, async () => {
    const { finished, track } = tracker();
    const calls = [track('blocker', predict(clients, 0, HIGH))];
    // No priority header: default_priority_level 2, whose queue holds 3 rows.
    for (const i of [1, 2, 3, 4, 5]) calls.push(track(`low${i}`, predict(clients, i)));
    for (const i of [1, 2]) calls.push(track(`high${i}`, predict(clients, 10 + i, HIGH)));
    const outcomes = await Promise.all(calls);
    const refused = outcomes.filter((o) => 'error' in o);
    assert.deepEqual(refused.map((o) => o.name), ['low4', 'low5'], 'the two beyond the level-2 queue were refused');
    for (const o of refused) {
      assert.ok('error' in o);
      assert.equal(o.error.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.match(o.error.details, /batch scheduling queue to which this task was submitted is full \(model slow:1, priority 2, limit 3 batches of 1\)/);
    }
    assert.ok(outcomes.filter((o) => o.name.startsWith('high')).every((o) => 'response' in o), 'level 1 kept its own room');
    const firstSuccess = Math.min(...outcomes.filter((o) => 'response' in o).map((o) => finished.indexOf(o.name)));
    assert.ok(finished.indexOf('low5') < firstSuccess, `refusals came back before any queued request ran: ${finished.join(', ')}`);
  });

  test('malformed or out-of-range hints are INVALID_ARGUMENT naming the header, over gRPC and REST', async () => {
    const rejects = (headers: Record<string, string>, pattern: RegExp) =>
      assert.rejects(predict(clients, 1, headers), (e: UnaryError) => e.code === grpc.status.INVALID_ARGUMENT && pattern.test(e.details));
    await rejects({ 'x-maas-priority': 'high' }, /x-maas-priority must be a priority level >= 1/);
    await rejects({ 'x-maas-priority': '0' }, /x-maas-priority must be a priority level >= 1/);
    await rejects({ 'x-maas-priority': '3' }, /x-maas-priority 3 is out of range \[1, 2\] for model slow:1/);
    await rejects({ 'x-maas-queue-timeout-ms': '-5' }, /x-maas-queue-timeout-ms must be a non-negative integer/);

    const rest = (headers: Record<string, string>) =>
      fetch(`http://127.0.0.1:${server.restPort}/v1/models/slow:predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ instances: [[7]] }),
      });
    const bad = await rest({ 'x-maas-queue-timeout-ms': 'soon' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /x-maas-queue-timeout-ms/);
    const good = await rest({ 'x-maas-priority': '1', 'x-maas-queue-timeout-ms': '60000' });
    assert.equal(good.status, 200);
    assert.deepEqual(await good.json(), { predictions: [[7]] });
  });
});

describe('the scheduler passes the batching hints on to the worker', () => {
  let redis: LocalRedis;
  const processes: ServeProcess[] = [];
  let scheduler: ServeProcess;
  let clients: Clients;

  before(async () => {
    const dir = slowModelDir();
    redis = await startLocalRedis();
    const common = [`--redis=${redis.url}`, '--grpc_host=127.0.0.1', '--heartbeat_ms=300'];
    processes.push(await startMaas(['registry', ...common, '--port=0', '--model_name=slow', `--model_base_path=${join(dir, 'slow')}`]));
    processes.push(await startMaas(['worker', ...common, '--port=0', '--enable_batching', `--batching_parameters_file=${join(dir, 'batching.config')}`]));
    scheduler = await startMaas(['scheduler', ...common, '--port=0', '--rest_api_port=-1', '--refresh_ms=100', '--placement_ms=300']);
    processes.push(scheduler);
    clients = loadTfServingClients(`127.0.0.1:${scheduler.grpcPort}`);
    const started = Date.now();
    for (;;) {
      const ok = await predict(clients, 1).then(() => true, () => false);
      if (ok) break;
      if (Date.now() - started > 60_000) throw new Error('slow was not served through the scheduler within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(async () => {
    clients?.close();
    for (const p of processes.reverse()) await p.stop();
    await redis?.stop();
  });

  test('priority and queue timeout reach the worker over gRPC and REST', { timeout: 120_000 }, async () => {
    // Only the worker knows the model has 2 levels: its answer shows the header arrived.
    await assert.rejects(predict(clients, 1, { 'x-maas-priority': '3' }), (e: UnaryError) =>
      e.code === grpc.status.INVALID_ARGUMENT && /x-maas-priority 3 is out of range \[1, 2\] for model slow:1/.test(e.details));
    // Malformed ones are refused at the front door.
    await assert.rejects(predict(clients, 1, { 'x-maas-queue-timeout-ms': 'x' }), (e: UnaryError) =>
      e.code === grpc.status.INVALID_ARGUMENT && /x-maas-queue-timeout-ms must be/.test(e.details));
    const rest = await fetch(`http://127.0.0.1:${scheduler.restPort}/v1/models/slow:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-maas-priority': '3' },
      body: JSON.stringify({ instances: [[1]] }),
    });
    assert.equal(rest.status, 400);
    assert.match(((await rest.json()) as { error: string }).error, /x-maas-priority 3 is out of range/);

    const blockers = [predict(clients, 1, HIGH), predict(clients, 2, HIGH)];
    await assert.rejects(predict(clients, 3, { 'x-maas-queue-timeout-ms': '50' }), (e: UnaryError) =>
      e.code === grpc.status.DEADLINE_EXCEEDED && /timed out in the queue .*queue timeout 50 ms/.test(e.details));
    assert.deepEqual((await Promise.all(blockers)).map(value), [1, 2]);
  });
});
