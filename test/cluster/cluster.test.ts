import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { DataType, PredictRequest, PredictResponse, TensorProto } from '@maas/protos';
import { callUnary, type ServeProcess, type UnaryError } from '@maas/test-support';
import { TestCluster, steadyLoad } from './cluster-harness.js';

const PREDICT = '/tensorflow.serving.PredictionService/Predict';
const total = (outcomes: Map<string, number>) => [...outcomes.values()].reduce((a, b) => a + b, 0);
const successRate = (outcomes: Map<string, number>) => (outcomes.get('OK') ?? 0) / Math.max(1, total(outcomes));
const summary = (outcomes: Map<string, number>) => JSON.stringify(Object.fromEntries(outcomes));

describe('cluster: registry, scheduler and workers over Redis', () => {
  const cluster = new TestCluster();
  let adderPath = '';

  before(async () => {
    adderPath = cluster.writeAdder('adder', [1]);
    await cluster.start(3, 'adder', adderPath);
    await cluster.waitFor('adder to be served', async () => (await cluster.predict('adder', 1))[1] === 2, 30_000);
  });

  after(() => cluster.stop());

  /** The tail of each role's log, to see what placement and the workers did when a check failed. */
  const clusterLogs = () => {
    const roles: Array<[string, ServeProcess]> = [['scheduler', cluster.scheduler], ['registry', cluster.registry], ...cluster.workers.map((w): [string, ServeProcess] => [`worker ${w.id}`, w])];
    return roles.map(([role, process]) => `--- ${role}\n${process.log().split('\n').slice(-40).join('\n')}`).join('\n');
  };

  const holders = async (model: string) => {
    const description = await cluster.describe();
    return description.workers.filter((w) => w.readyModels.includes(model)).map((w) => w.id);
  };

  test('a TF Serving client predicts, reads status and metadata through the scheduler', async () => {
    assert.deepEqual(await cluster.predict('adder', 41), ['1', 42]);
    const status = await callUnary<{ model_version_status: Array<{ version: string; state: string }> }>(cluster.clients.model, 'GetModelStatus', { model_spec: { name: 'adder' } });
    assert.deepEqual(status.model_version_status.map((s) => [s.version, s.state]), [['1', 'AVAILABLE']]);
    const metadata = await callUnary<{ metadata: Record<string, { type_url: string }> }>(cluster.clients.prediction, 'GetModelMetadata', { model_spec: { name: 'adder' }, metadata_field: ['signature_def'] });
    assert.equal(metadata.metadata.signature_def?.type_url, 'type.googleapis.com/tensorflow.serving.SignatureDefMap');
    await assert.rejects(cluster.predict('nope', 1), (e: UnaryError) => e.code === grpc.status.NOT_FOUND && /Servable not found for request: Latest\(nope\)/.test(e.details));
  });

  test('the front door routes by the model_spec the worker reads, and malformed bytes are INVALID_ARGUMENT naming the method', async () => {
    const raw = new grpc.Client(`127.0.0.1:${cluster.scheduler.grpcPort}`, grpc.credentials.createInsecure());
    const call = (bytes: Buffer) =>
      new Promise<[grpc.ServiceError | null, Buffer | undefined]>((resolve) =>
        raw.makeUnaryRequest(PREDICT, (b: Buffer) => b, (b: Buffer) => b, bytes, (error, response) => resolve([error, response])),
      );
    try {
      // model_spec given twice: the last one counts for the worker's decoder, so it must for routing too.
      const request = PredictRequest.encode({
        modelSpec: { name: 'adder', signatureName: '' },
        inputs: { x: TensorProto.fromPartial({ dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 1n }, { size: 1n }] }, floatVal: [41] }) },
        outputFilter: [],
      }).finish();
      const [error, response] = await call(Buffer.concat([PredictRequest.encode({ modelSpec: { name: 'nope', signatureName: '' }, inputs: {}, outputFilter: [] }).finish(), request]));
      assert.equal(error, null, error?.details);
      const y = PredictResponse.decode(response!).outputs.y!;
      assert.deepEqual([...new Float32Array(Uint8Array.from(y.tensorContent).buffer)], [42]);
      for (const hex of ['0a05ffff', '0c', 'ff', '0a03ffffff']) {
        const [malformed] = await call(Buffer.from(hex, 'hex'));
        assert.equal(malformed?.code, grpc.status.INVALID_ARGUMENT, `${hex}: ${malformed?.details}`);
        assert.match(malformed!.details, /^\/tensorflow\.serving\.PredictionService\/Predict: request is not a valid protobuf message/, hex);
      }
    } finally {
      raw.close();
    }
  });

  test('replicas are placed on distinct workers', async () => {
    await cluster.setReplicas('adder', 2, 2);
    await cluster.waitFor('two replicas', async () => (await holders('adder')).length === 2);
    await assert.rejects(cluster.setReplicas('nope', 1, 1), (e: UnaryError) => e.code === grpc.status.NOT_FOUND);
    await assert.rejects(cluster.setReplicas('adder', 3, 1), (e: UnaryError) => e.code === grpc.status.INVALID_ARGUMENT);
  });

  test('HandleReloadConfigRequest through the scheduler places a new model', async () => {
    const otherPath = cluster.writeAdder('other', [5]);
    const response = await callUnary<{ status: { error_code: string } }>(cluster.clients.model, 'HandleReloadConfigRequest', {
      config: { model_config_list: { config: [{ name: 'adder', base_path: adderPath }, { name: 'other', base_path: otherPath }] } },
    });
    assert.equal(response.status.error_code, 'OK');
    await cluster.waitFor('other routable', async () => (await cluster.predict('other', 1))[1] === 6);
    assert.deepEqual(await cluster.predict('other', 10), ['5', 15]);
  });

  test('kill -9 of a worker under load: >= 99.9 % succeed, the rest UNAVAILABLE, replica re-placed within 10 s', async () => {
    const [victimId] = await holders('adder');
    const victim = cluster.workers.find((w) => w.id === victimId)!;
    let stop = false;
    const load = steadyLoad(cluster, 'adder', 4, () => stop);
    await new Promise((r) => setTimeout(r, 1000));
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    const replaced = await cluster.waitFor('adder back to two ready replicas', async () => {
      const now = await holders('adder');
      return now.length === 2 && !now.includes(victimId!);
    }, 10_000);
    await new Promise((r) => setTimeout(r, 1000));
    stop = true;
    const outcomes = await load;
    cluster.workers = cluster.workers.filter((w) => w !== victim);
    console.log(`kill -9: ${summary(outcomes)}, re-placed ${Date.now() - killedAt} ms after the kill (${replaced} ms of waiting)`);
    assert.ok(total(outcomes) > 50, 'the load ran');
    assert.ok(successRate(outcomes) >= 0.999, `success rate ${successRate(outcomes)}: ${summary(outcomes)}`);
    for (const code of outcomes.keys()) assert.ok(code === 'OK' || code === String(grpc.status.UNAVAILABLE), `unexpected outcome ${code}`);
  });

  test('a worker that stops heartbeating with its socket open leaves routing', async () => {
    const [hungId] = await holders('adder');
    const hung = cluster.workers.find((w) => w.id === hungId)!;
    let stop = false;
    const load = steadyLoad(cluster, 'adder', 4, () => stop);
    await new Promise((r) => setTimeout(r, 500));
    hung.child.kill('SIGSTOP');
    try {
      await cluster.waitFor('the hung worker to leave the cluster view', async () => !(await cluster.describe()).workers.some((w) => w.id === hungId), 10_000);
      await new Promise((r) => setTimeout(r, 2000));
      stop = true;
      const outcomes = await load;
      console.log(`SIGSTOP: ${summary(outcomes)}`);
      assert.ok(successRate(outcomes) >= 0.999, `success rate ${successRate(outcomes)}: ${summary(outcomes)}`);
    } finally {
      stop = true;
      hung.child.kill('SIGCONT');
    }
  });

  test('Redis restarted under load: serving continues, state is rebuilt when it returns', async () => {
    // The earlier fault tests may have moved `other`: it must be placed and ready before Redis goes.
    await cluster.waitFor('other ready again', async () => (await cluster.predict('other', 1))[1] === 6, 15_000);
    let stop = false;
    const load = steadyLoad(cluster, 'adder', 2, () => stop);
    await new Promise((r) => setTimeout(r, 500));
    await cluster.restartRedis(1500);
    const rebuilt = await cluster.waitFor('workers and catalogue back in Redis', async () => {
      const description = await cluster.describe();
      return description.workers.length >= 2 && description.models.some((m) => m.name === 'adder');
    }, 15_000);
    stop = true;
    const outcomes = await load;
    console.log(`Redis restart: ${summary(outcomes)}, rebuilt ${rebuilt} ms after restart`);
    assert.ok(successRate(outcomes) >= 0.999, `success rate ${successRate(outcomes)}: ${summary(outcomes)}`);
    const other = await cluster.predict('other', 1).catch((error: Error) => {
      console.log(clusterLogs());
      throw error;
    });
    assert.deepEqual(other, ['5', 6]);
  });

  test('a restarted scheduler serves again within 5 s', async () => {
    await cluster.scheduler.stop('SIGKILL');
    const restartedAt = Date.now();
    await cluster.startScheduler();
    await cluster.waitFor('the new scheduler to route', async () => (await cluster.predict('adder', 1, 2000))[1] === 2, 5_000);
    const elapsed = Date.now() - restartedAt;
    console.log(`scheduler restart: serving ${elapsed} ms after the old one died`);
    assert.ok(elapsed <= 5000, `took ${elapsed} ms`);
  });
});
