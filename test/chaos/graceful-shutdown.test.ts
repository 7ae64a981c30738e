import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { DataType, PredictRequest } from '@maas/protos';
import { startLocalRedis } from '@maas/cli';
import { addConstantModel, makeTempDir, startMaas, writeModelVersion } from '@maas/test-support';
import { BatchJobs } from '../../chaos/batch.js';
import { ChaosCluster } from '../../chaos/cluster.js';
import { SteadyLoad } from '../../chaos/load.js';

/*
 * SIGTERM: stop accepting, finish what is in flight (bounded), hand back batch chunks, deregister,
 * exit 0 — for `maas serve` and for a cluster worker and scheduler under load.
 */

const PREDICT = '/tensorflow.serving.PredictionService/Predict';
const identity = (b: Buffer) => b;
const predictBytes = Buffer.from(
  PredictRequest.encode(PredictRequest.fromPartial({ modelSpec: { name: 'adder' }, inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 1n }, { size: 1n }] }, floatVal: [1] } } })).finish(),
);

function predict(client: grpc.Client): Promise<grpc.status> {
  return new Promise<grpc.status>((resolve) =>
    client.makeUnaryRequest(PREDICT, identity, identity, predictBytes, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (error) => resolve(error ? error.code : grpc.status.OK)),
  );
}

test('maas serve: requests in flight at SIGTERM finish, later ones are refused, exit 0', async () => {
  const dir = makeTempDir('maas-shutdown-');
  writeModelVersion(join(dir, 'adder'), 1, addConstantModel(1));
  // Each request waits ~1 s in the batcher: they are in flight when the signal comes.
  writeFileSync(join(dir, 'batching.config'), 'max_batch_size { value: 64 }\nbatch_timeout_micros { value: 1000000 }\n');
  const server = await startMaas(['serve', '--port=0', '--grpc_host=127.0.0.1', '--rest_api_port=0', '--model_name=adder', `--model_base_path=${join(dir, 'adder')}`, '--enable_batching', `--batching_parameters_file=${join(dir, 'batching.config')}`]);
  const address = `127.0.0.1:${server.grpcPort}`;
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve())));
  const inFlight = Promise.all(Array.from({ length: 5 }, () => predict(client)));
  await new Promise((r) => setTimeout(r, 300));
  const exited = server.stop('SIGTERM');
  await new Promise((r) => setTimeout(r, 100));
  const lateClient = new grpc.Client(address, grpc.credentials.createInsecure());
  const late = await predict(lateClient);
  lateClient.close();
  assert.deepEqual(await inFlight, Array(5).fill(grpc.status.OK));
  client.close();
  assert.equal(late, grpc.status.UNAVAILABLE, 'a request after SIGTERM is refused');
  assert.equal(await exited, 0);
  assert.match(server.log(), /SIGTERM: finishing in-flight work/);
});

test('a worker whose Redis is gone cannot hand anything back: SIGTERM still ends it, with 1, within --shutdown_timeout_seconds', async () => {
  const redis = await startLocalRedis();
  const worker = await startMaas(['worker', `--redis=${redis.url}`, '--grpc_host=127.0.0.1', '--port=0', '--shutdown_timeout_seconds=3']);
  await redis.stop();
  const started = Date.now();
  const code = await worker.stop('SIGTERM');
  assert.equal(code, 1);
  assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
  // Either deregistering fails at once or the bound cuts the stop short: both say so and exit 1.
  assert.match(worker.log(), /shutdown did not finish within 3000 ms|shutdown failed/);
});

describe('cluster roles under load', () => {
  const cluster = new ChaosCluster(3, 2, () => {});

  before(async () => {
    await cluster.start();
    const end = Date.now() + 60_000;
    while (!(await cluster.healthy().catch(() => false))) {
      if (Date.now() > end) throw new Error('cluster never healthy');
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(() => cluster.stop());

  test('SIGTERM of a worker: no request fails, a running batch job hands its chunks back, the worker deregisters and exits 0', async () => {
    const address = `127.0.0.1:${cluster.schedulerPort}`;
    const load = new SteadyLoad(address, { clients: 4, deadlineMs: 10_000 });
    const batch = new BatchJobs(address, cluster.root);
    load.start();
    const job = await batch.submit(20_000, 100);
    const running = Date.now() + 30_000;
    while ((await batch.state(job)).rowsDone === 0n && Date.now() < running) await new Promise((r) => setTimeout(r, 50));
    const victim = cluster.workers[0]!;
    const code = await victim.stop('SIGTERM');
    const listed = (await cluster.describe()).workers.some((w) => w.id === victim.id);
    cluster.workers[0] = await cluster.startWorker();
    await new Promise((r) => setTimeout(r, 1000));
    const record = await load.stop();
    const [check] = await batch.checkAll(120_000);
    batch.close();
    assert.equal(code, 0);
    assert.ok(!listed, 'the worker removed its report on the way out');
    assert.match(victim.log(), /SIGTERM: finishing in-flight work/);
    assert.deepEqual([...record.outcomes.keys()], ['OK'], JSON.stringify(Object.fromEntries(record.outcomes)));
    const schedulerSaid = cluster.scheduler.log().split('\n').filter((line) => /retrying|fail|error/i.test(line)).slice(-20);
    assert.deepEqual(
      [...record.attemptErrors.keys()],
      [],
      `no attempt failed: ${JSON.stringify(Object.fromEntries(record.attemptErrors))}\n${record.firstFailures.join('\n')}\nscheduler:\n${schedulerSaid.join('\n')}`,
    );
    assert.deepEqual([check!.state, check!.correct, check!.missing, check!.duplicated], ['COMPLETED', 20_000, 0, 0]);
  });

  test('SIGTERM of the scheduler and the registry: both exit 0', async () => {
    assert.equal(await cluster.scheduler.stop('SIGTERM'), 0);
    assert.equal(await cluster.registry.stop('SIGTERM'), 0);
  });
});
