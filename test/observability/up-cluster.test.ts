import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { RegistryAdminClient } from '@maas/protos';
import { spawnRole, startLocalRedis, type LocalRedis, type RoleProcess, type UpReadyEvent } from '@maas/cli';
import { addConstantModel, callUnary, loadTfServingClients, makeTempDir, waitFor, writeModelVersion } from '@maas/test-support';
import { clientTraceparent, healthClient, healthOf, httpText, InMemoryOtlpReceiver, reflectedServices, sample, type SpanRecord } from './observability-helpers.js';

/** OTLP span kinds. */
const SERVER = 2;
const CLIENT = 3;
const PREDICT = 'tensorflow.serving.PredictionService/Predict';

const receiver = new InMemoryOtlpReceiver();
let redis: LocalRedis;
let up: RoleProcess<UpReadyEvent>;
let log = '';
/** The cluster below runs with REST and every /metrics port on: `maas up` must announce them all. */
type AllPortsUp = Omit<UpReadyEvent, 'workers'> & { restPort: number; metricsPort: number; registryMetricsPort: number; workers: Array<UpReadyEvent['workers'][number] & { metricsPort: number }> };
let ready: AllPortsUp;
let clients: ReturnType<typeof loadTfServingClients>;

before(async () => {
  await receiver.start();
  redis = await startLocalRedis();
  const dir = makeTempDir('maas-up-observed-');
  writeModelVersion(join(dir, 'adder'), 1, addConstantModel(1));
  // Three requests sent together form one batch (max 3 rows; the 1 s timeout is never reached by them).
  writeFileSync(join(dir, 'batching.config'), 'max_batch_size { value: 3 } batch_timeout_micros { value: 1000000 } num_batch_threads { value: 1 }');
  writeFileSync(join(dir, 'monitoring.config'), 'prometheus_config { enable: true }');
  const args = [
    'up',
    '--workers=2',
    `--redis=${redis.url}`,
    '--port=0',
    '--rest_api_port=-1',
    '--metrics_port=-1',
    '--model_name=adder',
    `--model_base_path=${join(dir, 'adder')}`,
    '--enable_batching',
    `--batching_parameters_file=${join(dir, 'batching.config')}`,
    `--monitoring_config_file=${join(dir, 'monitoring.config')}`,
    '--heartbeat_ms=300',
    '--refresh_ms=100',
    '--placement_ms=300',
  ];
  // The standard OTEL_* variables reach every role `maas up` starts.
  up = await spawnRole<UpReadyEvent>(args, { env: receiver.otelEnv(), onLog: (line) => (log += `${line}\n`) });
  const announced = up.ready;
  assert.ok(announced.restPort && announced.metricsPort && announced.registryMetricsPort && announced.workers.every((w) => w.metricsPort), `maas up announced every port: ${JSON.stringify(announced)}`);
  ready = announced as AllPortsUp;
  clients = loadTfServingClients(`127.0.0.1:${ready.grpcPort}`);
  await waitFor('adder to answer through maas up', async () => (await predict(1, clientTraceparent().traceparent).catch(() => undefined)) !== undefined, 30_000).catch((error: Error) => {
    throw new Error(`${error.message}\n${log}`);
  });
});
after(async () => {
  clients?.close();
  await up?.stop('SIGINT');
  await redis?.stop();
  await receiver.stop();
});

function predict(x: number, traceparent: string): Promise<unknown> {
  const metadata = new grpc.Metadata();
  metadata.set('traceparent', traceparent);
  const request = {
    model_spec: { name: 'adder' },
    inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }, { size: '1' }] }, tensor_content: Buffer.from(Float32Array.from([x]).buffer) } },
  };
  const client = clients.prediction as unknown as Record<string, Function>;
  return new Promise((resolve, reject) =>
    client.Predict!.call(clients.prediction, request, metadata, { deadline: Date.now() + 10_000 }, (error: Error | null, response: unknown) =>
      error ? reject(error) : resolve(response),
    ),
  );
}

/**
 * The spans of one trace once the front door's server span (the scheduler's last to end) has
 * arrived and, for every hop it forwarded, the worker's server span: each process exports on its
 * own schedule, so the worker's spans may come after the scheduler's.
 */
async function traceOf(traceId: string, frontName: string): Promise<SpanRecord[]> {
  const spans = () => receiver.spans.filter((s) => s.traceId === traceId);
  await waitFor(`trace ${traceId} at the receiver`, async () => {
    const all = spans();
    const forwards = all.filter((s) => s.service === 'maas-scheduler' && s.kind === CLIENT);
    return (
      all.some((s) => s.service === 'maas-scheduler' && s.kind === SERVER && s.name === frontName) &&
      forwards.every((f) => all.some((s) => s.service === 'maas-worker' && s.kind === SERVER && s.parentSpanId === f.spanId))
    );
  }, 15_000);
  return spans();
}

function only(spans: readonly SpanRecord[], what: string, match: (s: SpanRecord) => boolean): SpanRecord {
  const found = spans.filter(match);
  assert.equal(found.length, 1, `exactly one ${what} span in ${JSON.stringify(spans.map((s) => `${s.service}:${s.name}`))}`);
  return found[0]!;
}

/** The worker's side of one request: its server span, child of the scheduler's forward span, and the spans under it. */
function workerSide(spans: readonly SpanRecord[], forward: SpanRecord) {
  const server = only(spans, 'worker server', (s) => s.service === 'maas-worker' && s.kind === SERVER && s.parentSpanId === forward.spanId);
  assert.equal(server.name, forward.name.replace(/^forward /, ''), 'the worker continues the scheduler hop');
  const child = (name: string, parent: SpanRecord) => {
    const span = only(spans, name, (s) => s.name === name && s.service === 'maas-worker');
    assert.equal(span.parentSpanId, parent.spanId, `${name} is a child of ${parent.name}`);
    return span;
  };
  const decode = child('decode', server);
  const queue = child('queue', server);
  const batch = child('batch', server);
  const compute = child('compute', batch);
  const encode = child('encode', server);
  // Some span starts are whole milliseconds, hence the 1 ms slack on every comparison.
  assert.ok(
    decode.end <= queue.start + 1 && queue.start <= batch.start + 1 && batch.start <= compute.start + 1 && compute.end <= encode.start + 1,
    `decode, queue, batch/compute, encode in order: ${JSON.stringify([decode, queue, batch, compute, encode].map((x) => [x.name, x.start, x.end]))}`,
  );
  assert.ok(server.start >= forward.start - 1 && server.end <= forward.end + 1, 'the worker span lies within the forward span');
  return { server, batch, compute };
}

describe('traces through maas up, exported with the standard OTEL_* variables to an in-memory OTLP receiver', () => {
  test('a gRPC request is one connected trace: client -> scheduler (route, forward) -> worker (decode, queue, batch with the trace ids that shared it, compute, encode)', async () => {
    const callers = [clientTraceparent(), clientTraceparent(), clientTraceparent()];
    await Promise.all(callers.map((c, i) => predict(i, c.traceparent)));
    const traceIds = new Set(callers.map((c) => c.traceId));
    const holder = ready.workers.map((w) => w.id);

    for (const caller of callers) {
      const spans = await traceOf(caller.traceId, PREDICT);
      const front = only(spans, 'scheduler server', (s) => s.service === 'maas-scheduler' && s.kind === SERVER);
      assert.equal(front.name, PREDICT);
      assert.equal(front.parentSpanId, caller.spanId, "the scheduler continues the client's traceparent");
      assert.equal(front.attributes['rpc.grpc.status_code'], 0);

      const route = only(spans, 'route', (s) => s.name === 'route');
      assert.equal(route.parentSpanId, front.spanId);
      assert.equal(route.attributes['maas.model'], 'adder');
      const chosen = String(route.attributes['maas.route.chosen']);
      assert.ok(holder.includes(chosen), `chose one of the workers: ${chosen}`);
      assert.equal(route.attributes['maas.route.reason'], 'the only ready replica');
      assert.match(String((route.attributes['maas.route.candidates'] as string[])[0]), new RegExp(`^${chosen} version=1 load_per_core=\\d+\\.\\d\\d$`));

      const forward = only(spans, 'forward', (s) => s.service === 'maas-scheduler' && s.kind === CLIENT);
      assert.equal(forward.parentSpanId, front.spanId);
      assert.equal(forward.attributes['maas.worker'], chosen);

      const { batch } = workerSide(spans, forward);
      assert.equal(batch.attributes['maas.batch.size'], 3);
      assert.equal(batch.attributes['maas.batch.requests'], 3);
      assert.deepEqual(new Set(batch.attributes['maas.batch.trace_ids'] as string[]), traceIds, 'the batch names every trace that shared it');
      assert.deepEqual(new Set(batch.links.map((l) => l.traceId)), traceIds, 'and links to them');
    }
  });

  test('a REST request continues the traceparent header: REST span -> route -> forward -> worker', async () => {
    const caller = clientTraceparent();
    // One row waits for the batch timeout (1 s): no other request shares it.
    const response = await fetch(`http://127.0.0.1:${ready.restPort}/v1/models/adder:predict`, {
      method: 'POST',
      headers: { traceparent: caller.traceparent },
      body: JSON.stringify({ instances: [[41]] }),
    });
    assert.deepEqual(await response.json(), { predictions: [[42]] });
    const spans = await traceOf(caller.traceId, 'REST predict');
    const front = only(spans, 'REST server', (s) => s.service === 'maas-scheduler' && s.kind === SERVER);
    assert.equal(front.parentSpanId, caller.spanId, "the REST front door continues the client's traceparent");
    // The scheduler may first read the model's signature (GetModelMetadata, cached for 1 s): a route and forward of its own.
    const routes = spans.filter((s) => s.name === 'route');
    assert.ok(routes.length >= 1 && routes.every((r) => r.parentSpanId === front.spanId));
    const forward = only(spans, 'forward Predict', (s) => s.kind === CLIENT && s.name === `forward ${PREDICT}`);
    assert.equal(forward.parentSpanId, front.spanId);
    const { batch } = workerSide(spans, forward);
    assert.equal(batch.attributes['maas.batch.size'], 1);
    assert.deepEqual(batch.attributes['maas.batch.trace_ids'], [caller.traceId]);
  });

  test('with two replicas the routing span names both candidates, the two weighed and why one was chosen', async () => {
    const admin = new RegistryAdminClient(`127.0.0.1:${ready.registryPort}`, grpc.credentials.createInsecure());
    try {
      const gauges = await httpText(ready.metricsPort, '/metrics');
      assert.deepEqual([sample(gauges, 'maas_replicas_wanted', { model: 'adder' }), sample(gauges, 'maas_replicas_ready', { model: 'adder' })], [1, 1]);
      await new Promise<void>((resolve, reject) => admin.setReplicas({ model: 'adder', minReplicas: 2, maxReplicas: 2 }, (error) => (error ? reject(error) : resolve())));
      // Ready once a request's route span sees two candidates.
      let route: SpanRecord | undefined;
      await waitFor('two ready replicas in a routing decision', async () => {
        const caller = clientTraceparent();
        await predict(1, caller.traceparent).catch(() => undefined);
        route = only(await traceOf(caller.traceId, PREDICT), 'route', (s) => s.name === 'route');
        return (route.attributes['maas.route.candidates'] as string[]).length === 2;
      }, 30_000);
      const candidates = (route!.attributes['maas.route.candidates'] as string[]).map((c) => c.split(' ')[0]);
      assert.deepEqual(new Set(candidates), new Set(ready.workers.map((w) => w.id)));
      assert.deepEqual(new Set(route!.attributes['maas.route.weighed'] as string[]), new Set(candidates), 'power of two choices of two weighs both');
      assert.ok(candidates.includes(String(route!.attributes['maas.route.chosen'])));
      assert.match(String(route!.attributes['maas.route.reason']), /^power of two choices: lower load per core of the two sampled \(\d+\.\d\d vs \d+\.\d\d\)$/);
      // The scheduler's replica gauges follow: 2 wanted, 2 ready (1 and 1 before).
      const replicas = async () => {
        const text = await httpText(ready.metricsPort, '/metrics');
        return [sample(text, 'maas_replicas_wanted', { model: 'adder' }), sample(text, 'maas_replicas_ready', { model: 'adder' })];
      };
      await waitFor('the replica gauges to show 2 of 2', async () => JSON.stringify(await replicas()) === '[2,2]', 10_000);
    } finally {
      admin.close();
    }
  });
});

describe('every role maas up starts serves /metrics, grpc.health.v1.Health and reflection', () => {
  test("registry, scheduler and workers: health SERVING, reflection lists what each serves, /metrics counts their own calls (the registry's admin calls, the scheduler's and a worker's serving calls)", async () => {
    const roles = [
      { name: 'registry', grpc: ready.registryPort, metrics: ready.registryMetricsPort, services: ['maas.admin.v1.RegistryAdmin'] },
      { name: 'scheduler', grpc: ready.grpcPort, metrics: ready.metricsPort, services: ['tensorflow.serving.PredictionService', 'tensorflow.serving.ModelService', 'maas.batch.v1.BatchJobs'] },
      ...ready.workers.map((w) => ({ name: 'worker', grpc: w.grpcPort, metrics: w.metricsPort, services: ['tensorflow.serving.PredictionService'] })),
    ];
    for (const role of roles) {
      const address = `127.0.0.1:${role.grpc}`;
      const health = healthClient(address);
      assert.equal(await healthOf(health, ''), 'SERVING', `${role.name} health`);
      health.close();
      const listed = await reflectedServices(address);
      for (const service of [...role.services, 'grpc.health.v1.Health']) assert.ok(listed.includes(service), `${role.name} reflection lists ${service}: ${listed.join(', ')}`);
      assert.ok(role.metrics > 0, `${role.name} announced its metrics port`);
    }

    const registryBefore = sample(await httpText(ready.registryMetricsPort, '/metrics'), 'maas_requests_total', { method: 'DescribeCluster', status: 'OK' }) ?? 0;
    const admin = new RegistryAdminClient(`127.0.0.1:${ready.registryPort}`, grpc.credentials.createInsecure());
    for (let i = 0; i < 2; i++) await new Promise<void>((resolve, reject) => admin.describeCluster({}, (error) => (error ? reject(error) : resolve())));
    admin.close();
    assert.equal(sample(await httpText(ready.registryMetricsPort, '/metrics'), 'maas_requests_total', { method: 'DescribeCluster', status: 'OK' })! - registryBefore, 2);
    // The registry traces too (its SDK was configured by the same OTEL_* variables).
    await waitFor('registry spans at the receiver', async () => receiver.spans.some((s) => s.service === 'maas-registry' && s.kind === SERVER && s.name === 'maas.admin.v1.RegistryAdmin/DescribeCluster'));

    const callsOf = async (port: number, method: string) => sample(await httpText(port, '/metrics'), 'maas_requests_total', { model: 'adder', method, status: 'OK' }) ?? 0;
    const worker = ready.workers[0]!;
    const [schedulerBefore, workerBefore] = [await callsOf(ready.metricsPort, 'GetModelStatus'), await callsOf(worker.metricsPort, 'GetModelMetadata')];
    for (let i = 0; i < 3; i++) await callUnary(clients.model, 'GetModelStatus', { model_spec: { name: 'adder' } });
    const direct = loadTfServingClients(`127.0.0.1:${worker.grpcPort}`);
    await callUnary(direct.prediction, 'GetModelMetadata', { model_spec: { name: 'adder' }, metadata_field: ['signature_def'] });
    direct.close();
    assert.equal((await callsOf(ready.metricsPort, 'GetModelStatus')) - schedulerBefore, 3);
    assert.equal((await callsOf(worker.metricsPort, 'GetModelMetadata')) - workerBefore, 1);
    // TF Serving's names on the scheduler's REST port (--monitoring_config_file passed on by maas up).
    assert.ok((sample(await httpText(ready.restPort, '/monitoring/prometheus/metrics'), ':tensorflow:serving:request_count', { model_name: 'adder', status: 'OK' }) ?? 0) >= 4);
  });
});
