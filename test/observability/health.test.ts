import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { startLocalRedis } from '@maas/cli';
import { addConstantModel, callUnary, loadTfServingClients, makeTempDir, startMaas, writeModelVersion, type ServeProcess } from '@maas/test-support';
import { TestCluster } from '../cluster/cluster-harness.js';
import { askReflection, healthClient, healthOf, reflectedServices } from './observability-helpers.js';

/** Every status a Watch stream reports, until it ends. */
function watch(client: ReturnType<typeof healthClient>, service: string) {
  const seen: string[] = [];
  const stream = client.watch({ service });
  stream.on('data', (message: { status: string }) => seen.push(message.status));
  const ended = new Promise<void>((resolve) => {
    stream.on('error', () => resolve());
    stream.on('end', () => resolve());
  });
  return { seen, ended, cancel: () => stream.cancel() };
}

describe('health in the cluster follows placement, loading and draining', () => {
  const cluster = new TestCluster();
  after(() => cluster.stop());

  test('a worker is NOT_SERVING until its assigned model is loaded, SERVING then, NOT_SERVING while it drains', async () => {
    const base = cluster.writeAdder('adder', [1]);
    cluster.redis = await startLocalRedis();
    cluster.registry = await startMaas(['registry', ...cluster.redisFlags(), '--port=0', '--metrics_port=0', '--model_name=adder', `--model_base_path=${base}`]);
    const worker = await cluster.startWorker();
    cluster.workers = [worker];
    const workerHealth = healthClient(`127.0.0.1:${worker.grpcPort}`);
    // No scheduler yet, so nothing is placed: the worker has nothing it was asked to serve.
    assert.equal(await healthOf(workerHealth, ''), 'NOT_SERVING');
    assert.equal(await healthOf(workerHealth, 'tensorflow.serving.PredictionService'), 'NOT_SERVING');
    assert.equal(await healthOf(workerHealth, 'adder'), 'NOT_FOUND', 'a model never assigned is unknown');
    const overall = watch(workerHealth, '');

    await cluster.startScheduler();
    await cluster.waitFor('the worker to report SERVING', async () => (await healthOf(workerHealth, '')) === 'SERVING');
    assert.equal(await healthOf(workerHealth, 'adder'), 'SERVING');
    assert.equal(await healthOf(workerHealth, 'PredictionService'), 'SERVING');

    const schedulerHealth = healthClient(`127.0.0.1:${cluster.scheduler.grpcPort}`);
    // The front door reports a model SERVING once some worker's report says it is ready.
    await cluster.waitFor('the scheduler to see adder ready', async () => (await healthOf(schedulerHealth, 'adder')) === 'SERVING');
    assert.deepEqual(await cluster.predict('adder', 2), ['1', 3], 'SERVING at the front door means it answers');
    assert.equal(await healthOf(schedulerHealth, ''), 'SERVING');
    assert.equal(await healthOf(schedulerHealth, 'ModelService'), 'SERVING');
    const registryHealth = healthClient(`127.0.0.1:${cluster.registry.grpcPort}`);
    assert.equal(await healthOf(registryHealth, 'maas.admin.v1.RegistryAdmin'), 'SERVING');

    // SIGTERM: the worker drains (it reports NOT_SERVING before its listener closes), then exits.
    await worker.stop('SIGTERM');
    await overall.ended;
    assert.deepEqual(overall.seen, ['NOT_SERVING', 'SERVING', 'NOT_SERVING']);
    await cluster.waitFor('the scheduler to report adder NOT_SERVING', async () => (await healthOf(schedulerHealth, 'adder')) === 'NOT_SERVING');
    for (const client of [workerHealth, schedulerHealth, registryHealth]) client.close();
  });
});

describe('maas serve: health under TF Serving names and per model, and server reflection', () => {
  let server: ServeProcess;
  const dir = makeTempDir();
  after(() => server?.stop());

  test('SERVING for the server, its services (full and short names) and each model; a model added by a reload turns SERVING once loaded', async () => {
    writeModelVersion(join(dir, 'adder'), 1, addConstantModel(1));
    writeModelVersion(join(dir, 'ten'), 7, addConstantModel(10));
    server = await startMaas(['serve', '--port=0', '--rest_api_port=0', '--metrics_port=0', '--model_name=adder', `--model_base_path=${join(dir, 'adder')}`]);
    const health = healthClient(`127.0.0.1:${server.grpcPort}`);
    for (const service of ['', 'PredictionService', 'ModelService', 'tensorflow.serving.PredictionService', 'tensorflow.serving.ModelService', 'adder']) {
      assert.equal(await healthOf(health, service), 'SERVING', service);
    }
    assert.equal(await healthOf(health, 'ten'), 'NOT_FOUND');
    const clients = loadTfServingClients(`127.0.0.1:${server.grpcPort}`);
    const config = (names: string[]) => ({
      config: { model_config_list: { config: names.map((name) => ({ name, base_path: join(dir, name), model_platform: 'onnx' })) } },
    });
    await callUnary(clients.model, 'HandleReloadConfigRequest', config(['adder', 'ten']), { deadlineMs: 30_000 });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await healthOf(health, 'ten')) !== 'SERVING') await new Promise((r) => setTimeout(r, 100));
    assert.equal(await healthOf(health, 'ten'), 'SERVING');
    await callUnary(clients.model, 'HandleReloadConfigRequest', config(['ten']), { deadlineMs: 30_000 });
    while (Date.now() < deadline + 10_000 && (await healthOf(health, 'adder')) !== 'NOT_SERVING') await new Promise((r) => setTimeout(r, 100));
    assert.equal(await healthOf(health, 'adder'), 'NOT_SERVING', 'a model removed from the config is no longer served');
    assert.equal(await healthOf(health, ''), 'SERVING');
    clients.close();
    health.close();
  });

  test('reflection lists the services and describes them from our .proto files', async () => {
    const address = `127.0.0.1:${server.grpcPort}`;
    assert.deepEqual(new Set(await reflectedServices(address)), new Set(['tensorflow.serving.PredictionService', 'tensorflow.serving.ModelService', 'grpc.health.v1.Health']));
    const files = (await askReflection(address, { file_containing_symbol: 'tensorflow.serving.PredictionService' })).file_descriptor_response.file_descriptor_proto;
    const text = files.map((f: Buffer) => f.toString('latin1')).join('');
    assert.ok(['PredictionService', 'PredictRequest', 'TensorProto'].every((name) => text.includes(name)), 'the service, its messages and what they use');
  });

  test('the log is one JSON object per line on stderr, with the model and version of model events', () => {
    const lines = server.log().trim().split('\n');
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const event of events) {
      assert.equal(typeof event.time, 'string');
      assert.equal(event.role, 'serve');
      assert.ok(['debug', 'info', 'warn', 'error'].includes(String(event.level)));
    }
    assert.ok(events.some((e) => e.model === 'adder' && e.version === 1 && /^loaded adder:1 /.test(String(e.msg))), lines.join('\n'));
  });
});
