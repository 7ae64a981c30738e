import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { SpanRecord } from '@maas/telemetry';
import { makeTempDir } from '@maas/test-support';
import { clientTraceparent, ObservedCluster, readSpans } from './observability-helpers.js';

const traceFile = join(makeTempDir('maas-traces-'), 'spans.jsonl');
// Every role the cluster starts inherits it: each process appends its finished spans there.
process.env.MAAS_TRACE_FILE = traceFile;
const cluster = new ObservedCluster();

before(async () => {
  await cluster.start(1, 'adder', cluster.writeAdder('adder', [1]));
  await cluster.waitFor('adder to answer', async () => (await cluster.predict('adder', 1))[0] === '1');
});
after(() => cluster.stop());

function predictWithTrace(x: number, traceparent: string): Promise<unknown> {
  const metadata = new grpc.Metadata();
  metadata.set('traceparent', traceparent);
  const request = {
    model_spec: { name: 'adder' },
    inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }, { size: '1' }] }, tensor_content: Buffer.from(Float32Array.from([x]).buffer) } },
  };
  const client = cluster.clients.prediction as unknown as Record<string, Function>;
  return new Promise((resolve, reject) =>
    client.Predict!.call(cluster.clients.prediction, request, metadata, { deadline: Date.now() + 10_000 }, (error: Error | null, response: unknown) =>
      error ? reject(error) : resolve(response),
    ),
  );
}

function only(spans: SpanRecord[], what: string, match: (s: SpanRecord) => boolean): SpanRecord {
  const found = spans.filter(match);
  assert.equal(found.length, 1, `exactly one ${what} span in ${JSON.stringify(spans.map((s) => `${s.service}:${s.name}`))}`);
  return found[0]!;
}

test('a request through the cluster is one connected trace: client -> scheduler (route, forward) -> worker (decode, queue, batch, compute, encode)', async () => {
  const clients = [clientTraceparent(), clientTraceparent(), clientTraceparent()];
  // Sent together, so the worker's batcher (max 3 rows, 1 s timeout) runs them as one batch.
  await Promise.all(clients.map((c, i) => predictWithTrace(i, c.traceparent)));
  const traceIds = new Set(clients.map((c) => c.traceId));
  const complete = () => {
    const spans = readSpans(traceFile).filter((s) => traceIds.has(s.traceId));
    return clients.every((c) => spans.some((s) => s.traceId === c.traceId && s.name === 'tensorflow.serving.PredictionService/Predict' && s.service === 'maas-scheduler'))
      ? spans
      : undefined;
  };
  await cluster.waitFor('the scheduler to finish its spans', () => complete() !== undefined);
  const all = complete()!;
  const workerId = cluster.workers[0]!.id!;

  for (const client of clients) {
    const spans = all.filter((s) => s.traceId === client.traceId);
    const front = only(spans, 'scheduler server', (s) => s.service === 'maas-scheduler' && s.kind === 1);
    assert.equal(front.name, 'tensorflow.serving.PredictionService/Predict');
    assert.equal(front.parentSpanId, client.spanId, "the scheduler continues the client's traceparent");
    assert.equal(front.attributes['rpc.grpc.status_code'], 0);

    const route = only(spans, 'route', (s) => s.name === 'route');
    assert.equal(route.parentSpanId, front.spanId);
    assert.equal(route.attributes['maas.model'], 'adder');
    assert.deepEqual(route.attributes['maas.route.weighed'], [workerId]);
    assert.equal(route.attributes['maas.route.chosen'], workerId);
    assert.equal(route.attributes['maas.route.reason'], 'the only ready replica');
    assert.match(String((route.attributes['maas.route.candidates'] as string[])[0]), new RegExp(`^${workerId} version=1 load_per_core=`));

    const forward = only(spans, 'forward', (s) => s.service === 'maas-scheduler' && s.kind === 2);
    assert.equal(forward.parentSpanId, front.spanId);
    assert.equal(forward.attributes['maas.worker'], workerId);

    const worker = only(spans, 'worker server', (s) => s.service === 'maas-worker' && s.kind === 1);
    assert.equal(worker.parentSpanId, forward.spanId, 'the worker continues the scheduler hop');
    assert.notEqual(worker.pid, front.pid);

    const child = (name: string, parent: SpanRecord) => {
      const span = only(spans, name, (s) => s.name === name && s.service === 'maas-worker');
      assert.equal(span.parentSpanId, parent.spanId, `${name} is a child of ${parent.name}`);
      return span;
    };
    const decode = child('decode', worker);
    const queue = child('queue', worker);
    const batch = child('batch', worker);
    const compute = child('compute', batch);
    const encode = child('encode', worker);
    // The queue span closes when the batcher hands the request back, which can be recorded just after
    // its batch span opened; what must hold is that it was queued before the batch formed. Some span
    // starts are whole milliseconds, hence the 1 ms slack on every comparison.
    assert.ok(decode.end <= queue.start + 1 && queue.start <= batch.start + 1 && batch.start <= compute.start + 1 && compute.end <= encode.start + 1, `decode, queue, batch/compute, encode in order: ${JSON.stringify([decode, queue, batch, compute, encode].map((x) => [x.name, x.start, x.end]))}`);
    assert.equal(batch.attributes['maas.batch.size'], 3);
    assert.deepEqual(new Set(batch.attributes['maas.batch.trace_ids'] as string[]), traceIds, 'the batch names every trace that shared it');
    assert.equal(batch.links.length, 3);
    assert.ok(worker.start >= front.start && worker.end <= front.end, 'the worker span lies within the scheduler span');
  }
});
