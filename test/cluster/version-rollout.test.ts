/**
 * docs/deploy.md's model upgrade, through the cluster: a new version published next to the old one
 * (written elsewhere, then renamed into place) is loaded by every worker holding the model before
 * the old one goes, while clients keep calling the scheduler without a version. No call may fail,
 * and every answer must come from the version the response names.
 */
import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { addConstantModel, callUnary, makeTempDir, versionedLoad, writeModelVersion, type UnaryError } from '@maas/test-support';
import { TestCluster } from './cluster-harness.js';

const cluster = new TestCluster();
let basePath = '';

before(async () => {
  basePath = cluster.writeAdder('adder', [1]);
  await cluster.start(2, 'adder', basePath);
  // Two replicas, as the guide asks for models that must not drop requests.
  await cluster.setReplicas('adder', 2, 2);
  await cluster.waitFor('adder on both workers', async () => {
    const description = await cluster.describe();
    return description.workers.filter((w) => w.readyModels.includes('adder')).length === 2;
  }, 60_000);
  // DescribeCluster is the registry's reading of the workers' reports; the scheduler routes by its
  // own, read from Redis on its own period (up to a refresh behind), and until then answers "No
  // ready replica". The load must start on a scheduler that routes: else it fails before any rollout.
  await cluster.waitFor('the scheduler to route adder', async () => (await cluster.predict('adder', 0))[1] === 1, 15_000);
});

after(() => cluster.stop());

test('a new version rolls out under load through the scheduler with no failed request', async () => {
  const load = versionedLoad(4, async (i) => {
    const [version, y] = await cluster.predict('adder', i);
    // y = x + version: the answer proves which version computed it.
    assert.equal(y, i + Number(version), `x=${i} answered ${y} by version ${version}`);
    return version;
  });
  await new Promise((r) => setTimeout(r, 500));
  const staging = join(makeTempDir(), 'incoming');
  writeModelVersion(staging, 2, addConstantModel(2));
  renameSync(join(staging, '2'), join(basePath, '2'));
  await cluster.waitFor('every answer to come from version 2', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => cluster.predict('adder', i)));
    return answers.every(([version]) => version === '2');
  }, 60_000);
  await new Promise((r) => setTimeout(r, 500));
  await load.stop();
  assert.deepEqual(load.failures, []);
  assert.ok((load.seen.get('1') ?? 0) > 0 && (load.seen.get('2') ?? 0) > 0, `both versions answered: ${JSON.stringify([...load.seen])}`);
});

test('version labels route through the scheduler to the labelled version; an unknown label is INVALID_ARGUMENT', async () => {
  const reload = await callUnary<{ status: { error_code: string } }>(cluster.clients.model, 'HandleReloadConfigRequest', {
    config: { model_config_list: { config: [{ name: 'adder', base_path: basePath, model_version_policy: { specific: { versions: ['1', '2'] } }, version_labels: { stable: '1', canary: '2' } }] } },
  });
  assert.equal(reload.status.error_code, 'OK');
  const byLabel = async (label: string, x: number): Promise<[string, number]> => {
    const response = await callUnary<{ outputs: Record<string, { tensor_content: Buffer }>; model_spec: { version: { value: string } } }>(cluster.clients.prediction, 'Predict', {
      model_spec: { name: 'adder', version_label: label },
      inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }, { size: '1' }] }, tensor_content: Buffer.from(Float32Array.from([x]).buffer) } },
    });
    return [response.model_spec.version.value, new Float32Array(new Uint8Array(response.outputs.y!.tensor_content).buffer)[0]!];
  };
  await cluster.waitFor('the stable label answered by version 1', async () => (await byLabel('stable', 0))[0] === '1', 60_000);
  for (let x = 0; x < 20; x++) {
    assert.deepEqual(await byLabel('stable', x), ['1', x + 1]);
    assert.deepEqual(await byLabel('canary', x), ['2', x + 2]);
  }
  await assert.rejects(byLabel('nope', 1), (e: UnaryError) => e.code === status.INVALID_ARGUMENT && /Unrecognized servable version label: nope/.test(e.details));
});
