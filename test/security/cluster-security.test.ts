import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { credentials, status } from '@grpc/grpc-js';
import { DataType, DescribeClusterRequest, DescribeClusterResponse, PredictRequest, ReloadConfigRequest, SetReplicasRequest } from '@maas/protos';
import { startLocalRedis, type LocalRedis } from '@maas/cli';
import { addConstantModel, makeTempDir, startMaas, writeModelVersion, type ServeProcess } from '@maas/test-support';
import { KEYS, bearer, replaceFile, sslConfigText, TestCa, writeAuthConfig } from './fixtures.js';
import { RawClient, codeName, type RawOutcome } from './raw-grpc.js';

/*
 * A cluster with auth on and mTLS between its roles: the scheduler's front door is plaintext here
 * (tls.test.ts covers it), while workers and the registry take only clients holding a certificate
 * of the cluster CA, and every role checks credentials and permissions on its own.
 */

const PREDICT = '/tensorflow.serving.PredictionService/Predict';
const RELOAD = '/tensorflow.serving.ModelService/HandleReloadConfigRequest';
const DESCRIBE = '/maas.admin.v1.RegistryAdmin/DescribeCluster';
const SET_REPLICAS = '/maas.admin.v1.RegistryAdmin/SetReplicas';
const predictBytes = PredictRequest.encode(
  PredictRequest.fromPartial({ modelSpec: { name: 'adder' }, inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 1n }, { size: 1n }] }, floatVal: [1] } } }),
).finish();
const outcome = (o: RawOutcome) => (o.ok ? 'OK' : codeName(o.code));
const refusedAtHandshake = (o: RawOutcome) => !o.ok && (o.code === status.UNAVAILABLE || o.code === status.DEADLINE_EXCEEDED);

describe('cluster with auth and mTLS between roles', () => {
  const dir = makeTempDir('maas-cluster-sec-');
  const ca = new TestCa(dir, 'cluster-ca');
  const modelPath = join(dir, 'adder');
  let redis: LocalRedis;
  let registry: ServeProcess;
  let workers: ServeProcess[] = [];
  let scheduler: ServeProcess;
  let front: RawClient;
  /** A client of the cluster's own: cluster certificate, no API key unless given per call. */
  const member = (port: number) => {
    const identity = ca.issue('admin-tool');
    return new RawClient(`127.0.0.1:${port}`, credentials.createSsl(Buffer.from(ca.ca.cert), Buffer.from(identity.key), Buffer.from(identity.cert)));
  };

  const roleFlags = (role: string) => {
    const config = join(dir, `${role}.ssl`);
    replaceFile(config, sslConfigText(ca.issue(role), ca.ca.cert, true));
    return [`--redis=${redis.url}`, '--grpc_host=127.0.0.1', '--heartbeat_ms=300', `--auth_config_file=${join(dir, 'auth.json')}`, `--cluster_ssl_config_file=${config}`];
  };

  before(async () => {
    writeModelVersion(modelPath, 1, addConstantModel(1));
    writeAuthConfig(dir, 'adder');
    redis = await startLocalRedis();
    registry = await startMaas(['registry', ...roleFlags('registry'), '--port=0', '--model_name=adder', `--model_base_path=${modelPath}`]);
    workers = await Promise.all([1, 2].map((i) => startMaas(['worker', ...roleFlags(`worker-${i}`), '--port=0'])));
    scheduler = await startMaas(['scheduler', ...roleFlags('scheduler'), '--port=0', '--rest_api_port=0', '--refresh_ms=100', '--placement_ms=300']);
    front = new RawClient(`127.0.0.1:${scheduler.grpcPort}`);
    const deadline = Date.now() + 30_000;
    while (outcome(await front.call(PREDICT, predictBytes, { authorization: bearer(KEYS.reader) })) !== 'OK') {
      if (Date.now() > deadline) throw new Error(`adder never became routable:\n${scheduler.log()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(async () => {
    front?.close();
    await scheduler?.stop();
    await Promise.all(workers.map((w) => w.stop()));
    await registry?.stop();
    await redis?.stop();
  });

  test('the front door forwards to workers over mTLS with the service key; callers still need their own credentials', async () => {
    assert.equal(outcome(await front.call(PREDICT, predictBytes, { authorization: bearer(KEYS.reader) })), 'OK');
    assert.equal(outcome(await front.call(PREDICT, predictBytes)), 'UNAUTHENTICATED');
    assert.equal(outcome(await front.call(PREDICT, predictBytes, { authorization: bearer(KEYS.service.replace('key', 'guess')) })), 'UNAUTHENTICATED');
  });

  test('a worker refuses clients without a cluster certificate, then callers without credentials or permission', async () => {
    const port = workers[0]!.grpcPort;
    const plain = new RawClient(`127.0.0.1:${port}`);
    assert.ok(refusedAtHandshake(await plain.call(PREDICT, predictBytes, { authorization: bearer(KEYS.ops), deadlineMs: 3000 })));
    plain.close();
    const outsider = new TestCa(dir, 'outsider-ca').issue('outsider');
    const forged = new RawClient(`127.0.0.1:${port}`, credentials.createSsl(Buffer.from(ca.ca.cert), Buffer.from(outsider.key), Buffer.from(outsider.cert)));
    assert.ok(refusedAtHandshake(await forged.call(PREDICT, predictBytes, { authorization: bearer(KEYS.ops), deadlineMs: 3000 })));
    forged.close();
    const inside = member(port);
    assert.equal(outcome(await inside.call(PREDICT, predictBytes)), 'UNAUTHENTICATED');
    const other = PredictRequest.encode(PredictRequest.fromPartial({ modelSpec: { name: 'secret' } })).finish();
    assert.equal(outcome(await inside.call(PREDICT, other, { authorization: bearer(KEYS.reader) })), 'PERMISSION_DENIED');
    inside.close();
  });

  test('the registry admin API needs a cluster certificate and administer; reloads through the front door reach it', async () => {
    const admin = member(registry.grpcPort);
    const describe = DescribeClusterRequest.encode({}).finish();
    assert.equal(outcome(await admin.call(DESCRIBE, describe)), 'UNAUTHENTICATED');
    assert.equal(outcome(await admin.call(DESCRIBE, describe, { authorization: bearer(KEYS.reader) })), 'PERMISSION_DENIED');
    const described = await admin.call(DESCRIBE, describe, { authorization: bearer(KEYS.ops) });
    assert.ok(described.ok);
    assert.equal(DescribeClusterResponse.decode(described.bytes).workers.length, 2);
    const setReplicas = SetReplicasRequest.encode({ model: 'adder', minReplicas: 1, maxReplicas: 1 }).finish();
    assert.equal(outcome(await admin.call(SET_REPLICAS, setReplicas, { authorization: bearer(KEYS.reader) })), 'PERMISSION_DENIED');
    assert.equal(outcome(await admin.call(SET_REPLICAS, setReplicas, { authorization: bearer(KEYS.ops) })), 'OK');
    admin.close();
    const plain = new RawClient(`127.0.0.1:${registry.grpcPort}`);
    assert.ok(refusedAtHandshake(await plain.call(DESCRIBE, describe, { authorization: bearer(KEYS.ops), deadlineMs: 3000 })));
    plain.close();

    const reload = ReloadConfigRequest.encode(ReloadConfigRequest.fromPartial({ config: { modelConfigList: { config: [{ name: 'adder', basePath: modelPath, modelPlatform: 'onnx' }] } } })).finish();
    assert.equal(outcome(await front.call(RELOAD, reload, { authorization: bearer(KEYS.reader) })), 'PERMISSION_DENIED');
    const reloaded = await front.call(RELOAD, reload, { authorization: bearer(KEYS.ops), deadlineMs: 30_000 });
    assert.equal(outcome(reloaded), 'OK', reloaded.ok ? '' : reloaded.details);
    // The front door audits the caller; the registry sees the scheduler's service identity.
    const audited = (log: string) => log.split('\n').filter((l) => l.includes(RELOAD)).map((l) => JSON.parse(l.slice(l.indexOf('{'))));
    assert.deepEqual(audited(scheduler.log()).map((e) => [e.principal, e.outcome]), [['reader', 'denied'], ['ops', 'ok']]);
    assert.deepEqual(audited(registry.log()).map((e) => [e.principal, e.outcome]), [['service', 'ok']]);
  });
});
