import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { credentials, status } from '@grpc/grpc-js';
import { DataType, DescribeClusterRequest, DescribeClusterResponse, ListBatchJobsRequest, PredictRequest, ReloadConfigRequest, SetReplicasRequest, SubmitBatchJobRequest } from '@maas/protos';
import { startLocalRedis, type LocalRedis } from '@maas/cli';
import { addConstantModel, makeTempDir, startMaas, writeModelVersion, type ServeProcess } from '@maas/test-support';
import { KEYS, bearer, replaceFile, runMaasBatch, sslConfigText, TestCa, writeAuthConfig } from './fixtures.js';
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
const LIST_JOBS = '/maas.batch.v1.BatchJobs/List';
const SUBMIT_JOB = '/maas.batch.v1.BatchJobs/Submit';
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
    scheduler = await startMaas(['scheduler', ...roleFlags('scheduler'), '--port=0', '--rest_api_port=-1', '--refresh_ms=100', '--placement_ms=300']);
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
    const audited = (log: string) => log.split('\n').filter((l) => l.includes(RELOAD)).map((l) => JSON.parse(l.slice(l.indexOf('{'))) as { principal: string; outcome: string });
    // The lines reach us through the roles' stderr pipes: give them a moment.
    const end = Date.now() + 5000;
    while (audited(scheduler.log()).length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(audited(scheduler.log()).map((e) => [e.principal, e.outcome]), [['reader', 'denied'], ['ops', 'ok']]);
    assert.deepEqual(audited(registry.log()).map((e) => [e.principal, e.outcome]), [['service', 'ok']]);
  });

  test('maas batch sends --token (or $MAAS_TOKEN) as its bearer credentials', async () => {
    const run = (args: string[], env?: NodeJS.ProcessEnv) => runMaasBatch(['list', `--scheduler=127.0.0.1:${scheduler.grpcPort}`, ...args], env);
    const anonymous = await run([]);
    assert.notEqual(anonymous.code, 0);
    assert.match(anonymous.output, /Missing credentials/);
    const ops = await run([`--token=${KEYS.ops}`]);
    assert.equal(ops.code, 0, ops.output);
    const reader = await run([], { MAAS_TOKEN: KEYS.reader });
    assert.notEqual(reader.code, 0);
    assert.match(reader.output, /reader may not administer/);
  });

  test('batch jobs are administrative on gRPC and REST; the monitoring pages need credentials too', async () => {
    const list = ListBatchJobsRequest.encode({ limit: 5 }).finish();
    assert.equal(outcome(await front.call(LIST_JOBS, list)), 'UNAUTHENTICATED');
    assert.equal(outcome(await front.call(LIST_JOBS, list, { authorization: bearer(KEYS.reader) })), 'PERMISSION_DENIED');
    assert.equal(outcome(await front.call(LIST_JOBS, list, { authorization: bearer(KEYS.ops) })), 'OK');
    const submit = SubmitBatchJobRequest.encode(SubmitBatchJobRequest.fromPartial({ modelSpec: { name: 'adder' }, instances: ['[1]'], outputPath: join(dir, 'out.jsonl') })).finish();
    const refused = await front.call(SUBMIT_JOB, submit, { authorization: bearer(KEYS.reader) });
    assert.equal(outcome(refused), 'PERMISSION_DENIED');
    assert.match(refused.ok ? '' : refused.details, /reader may not administer model 'adder'/);
    const rest = `http://127.0.0.1:${scheduler.restPort}`;
    const statuses = async (path: string) =>
      Promise.all([undefined, KEYS.reader, KEYS.ops].map(async (key) => (await fetch(`${rest}${path}`, { redirect: 'manual', headers: key ? { authorization: bearer(key) } : {} })).status));
    assert.deepEqual(await statuses('/v1/batch/jobs'), [401, 403, 200]);
    assert.deepEqual((await statuses('/v1/models/adder')).slice(0, 2), [401, 200]);
    // The dashboard shows every model: reading it needs read_metadata on "*".
    assert.deepEqual(await statuses('/dashboard'), [401, 403, 302]);
  });
});
