import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DataType, DescribeClusterRequest, PredictRequest } from '@maas/protos';
import { spawnRole, type UpReadyEvent } from '@maas/cli';
import { addConstantModel, makeTempDir, writeModelVersion } from '@maas/test-support';
import { KEYS, bearer, writeAuthConfig } from './fixtures.js';
import { RawClient, codeName, type RawOutcome } from './raw-grpc.js';

/*
 * Auth is one setting for a whole cluster: `maas up --auth_config_file` hands it to every role,
 * so the front door, the registry's admin API and a worker reached directly all refuse callers
 * without credentials, while a caller with a key is served through the front door.
 */

const PREDICT = '/tensorflow.serving.PredictionService/Predict';
const predict = PredictRequest.encode(
  PredictRequest.fromPartial({ modelSpec: { name: 'adder' }, inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 1n }, { size: 1n }] }, floatVal: [1] } } }),
).finish();
const codeOf = (o: RawOutcome) => (o.ok ? 'OK' : codeName(o.code));

test('maas up --auth_config_file turns auth on for every role it starts', { timeout: 120_000 }, async () => {
  const dir = makeTempDir('maas-up-auth-');
  writeModelVersion(join(dir, 'adder'), 1, addConstantModel(1));
  const env = { ...process.env };
  delete env.REDIS_URL;
  const args = ['up', '--workers=1', '--port=0', '--rest_api_port=-1', '--metrics_port=0', '--model_name=adder', `--model_base_path=${join(dir, 'adder')}`, `--auth_config_file=${writeAuthConfig(dir, 'adder')}`];
  let log = '';
  const up = await spawnRole<UpReadyEvent>(args, { env, onLog: (line) => (log += `${line}\n`) });
  const ready = up.ready;
  const clients: RawClient[] = [];
  try {
    const [front, registry, worker] = [ready.grpcPort, ready.registryPort, ready.workers[0]!.grpcPort].map((port) => new RawClient(`127.0.0.1:${port}`));
    clients.push(front!, registry!, worker!);
    const deadline = Date.now() + 60_000;
    while (codeOf(await front!.call(PREDICT, predict, { authorization: bearer(KEYS.reader) })) !== 'OK') {
      assert.ok(Date.now() < deadline, `adder never served through the front door:\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(codeOf(await front!.call(PREDICT, predict)), 'UNAUTHENTICATED');
    assert.equal(codeOf(await worker!.call(PREDICT, predict)), 'UNAUTHENTICATED');
    const describe = DescribeClusterRequest.encode({}).finish();
    assert.equal(codeOf(await registry!.call('/maas.admin.v1.RegistryAdmin/DescribeCluster', describe)), 'UNAUTHENTICATED');
    assert.equal(codeOf(await registry!.call('/maas.admin.v1.RegistryAdmin/DescribeCluster', describe, { authorization: bearer(KEYS.reader) })), 'PERMISSION_DENIED');
    assert.equal(codeOf(await registry!.call('/maas.admin.v1.RegistryAdmin/DescribeCluster', describe, { authorization: bearer(KEYS.ops) })), 'OK');
    const rest = await fetch(`http://127.0.0.1:${ready.restPort}/v1/models/adder`);
    assert.equal(rest.status, 401);
  } finally {
    for (const client of clients) client.close();
    assert.equal(await up.stop('SIGINT'), 0, log);
  }
});
