import assert from 'node:assert/strict';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { credentials, status } from '@grpc/grpc-js';
import { DataType, DescribeClusterRequest, DescribeClusterResponse, PredictRequest, SetReplicasRequest } from '@maas/protos';
import { startLocalRedis, type LocalRedis } from '@maas/cli';
import { addConstantModel, makeTempDir, startMaas, writeModelVersion, type ServeProcess } from '@maas/test-support';
import { KEYS, bearer, replaceFile, sslConfigText, TestCa, writeAuthConfig, type Certificate } from './fixtures.js';
import { RawClient, codeName, type RawOutcome } from './raw-grpc.js';

/*
 * The rotation docs/security.md prescribes for the certificates between roles, done under load on
 * a cluster with mTLS (client_verify) between every role: a CA bundle (old + new) everywhere, then
 * leaf certificates of the new CA, then the new CA alone. No request may fail, and a worker started
 * afterwards, which trusts only the new CA, must be reachable by the scheduler: proof that the
 * scheduler's own client certificate followed its file. The front door itself speaks TLS from
 * --ssl_config_file (its own CA), on gRPC and REST.
 */

const PREDICT = '/tensorflow.serving.PredictionService/Predict';
const DESCRIBE = '/maas.admin.v1.RegistryAdmin/DescribeCluster';
const predict = PredictRequest.encode(
  PredictRequest.fromPartial({ modelSpec: { name: 'adder' }, inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 1n }, { size: 1n }] }, floatVal: [1] } } }),
).finish();
const codeOf = (o: RawOutcome) => (o.ok ? 'OK' : codeName(o.code));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('TLS at the front door, mTLS between roles, and rotating the cluster certificates (and their CA) under load', () => {
  const dir = makeTempDir('maas-cluster-rotation-');
  const oldCa = new TestCa(dir, 'old-ca');
  const newCa = new TestCa(dir, 'new-ca');
  const externalCa = new TestCa(dir, 'external-ca');
  let redis: LocalRedis;
  let registry: ServeProcess;
  let scheduler: ServeProcess;
  let oldWorker: ServeProcess;
  let newWorker: ServeProcess | undefined;
  const configOf = (role: string) => join(dir, `${role}.ssl`);
  const writeRole = (role: string, identity: Certificate, ca: string) => replaceFile(configOf(role), sslConfigText(identity, ca, true));
  const flags = (role: string) => [
    `--redis=${redis.url}`, '--grpc_host=127.0.0.1', '--heartbeat_ms=300', `--auth_config_file=${join(dir, 'auth.json')}`,
    `--cluster_ssl_config_file=${configOf(role)}`, '--ssl_config_poll_seconds=1',
  ];
  const member = (port: number, ca: TestCa, trusted: string) => {
    const identity = ca.issue('admin-tool');
    return new RawClient(`127.0.0.1:${port}`, credentials.createSsl(Buffer.from(trusted), Buffer.from(identity.key), Buffer.from(identity.cert)));
  };

  before(async () => {
    writeModelVersion(join(dir, 'adder'), 1, addConstantModel(1));
    writeAuthConfig(dir, 'adder');
    redis = await startLocalRedis();
    for (const role of ['registry', 'scheduler', 'worker-1']) writeRole(role, oldCa.issue(role), oldCa.ca.cert);
    registry = await startMaas(['registry', ...flags('registry'), '--port=0', '--model_name=adder', `--model_base_path=${join(dir, 'adder')}`]);
    oldWorker = await startMaas(['worker', ...flags('worker-1'), '--port=0']);
    replaceFile(join(dir, 'external.ssl'), sslConfigText(externalCa.issue('front-door'), undefined, false));
    scheduler = await startMaas(['scheduler', ...flags('scheduler'), '--port=0', '--rest_api_port=-1', '--refresh_ms=100', '--placement_ms=300', `--ssl_config_file=${join(dir, 'external.ssl')}`]);
  });

  after(async () => {
    await scheduler?.stop();
    await newWorker?.stop();
    await oldWorker?.stop();
    await registry?.stop();
    await redis?.stop();
  });

  test('CA bundle, new leaves, new CA alone: no request fails, and a new-CA-only worker is reached', { timeout: 120_000 }, async () => {
    const front = new RawClient(`127.0.0.1:${scheduler.grpcPort}`, credentials.createSsl(Buffer.from(externalCa.ca.cert)));
    const ready = Date.now() + 30_000;
    while (codeOf(await front.call(PREDICT, predict, { authorization: bearer(KEYS.reader) })) !== 'OK') {
      assert.ok(Date.now() < ready, `adder never became routable:\n${scheduler.log()}`);
      await sleep(200);
    }
    let stop = false;
    const outcomes = new Map<string, number>();
    const load = Promise.all(
      [1, 2].map(async () => {
        while (!stop) {
          const outcome = await front.call(PREDICT, predict, { authorization: bearer(KEYS.reader) });
          const key = outcome.ok ? 'OK' : `${codeOf(outcome)}: ${outcome.details}`;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        }
      }),
    );
    const roles: Array<[string, ServeProcess]> = [['registry', registry], ['scheduler', scheduler], ['worker-1', oldWorker]];
    const loaded = (process: ServeProcess) => process.log().split('new certificates loaded').length - 1;
    /** Rewrites every role's file, then waits until each has taken it. */
    const stage = async (identity: (role: string) => Certificate, ca: string) => {
      const before = roles.map(([, process]) => loaded(process));
      for (const [role] of roles) writeRole(role, identity(role), ca);
      const end = Date.now() + 15_000;
      while (roles.some(([, process], i) => loaded(process) <= before[i]!)) {
        assert.ok(Date.now() < end, `a role did not take its new file:\n${roles.map(([r, p]) => `${r}: ${p.log().slice(-500)}`).join('\n')}`);
        await sleep(100);
      }
      await sleep(1000);
    };
    const oldLeaves = new Map(roles.map(([role]) => [role, oldCa.issue(`${role}-again`)]));
    const newLeaves = new Map(roles.map(([role]) => [role, newCa.issue(role)]));
    await stage((role) => oldLeaves.get(role)!, oldCa.ca.cert + newCa.ca.cert);
    await stage((role) => newLeaves.get(role)!, oldCa.ca.cert + newCa.ca.cert);
    await stage((role) => newLeaves.get(role)!, newCa.ca.cert);

    // The registry now refuses new connections with a certificate of the old CA.
    const stale = member(registry.grpcPort, oldCa, newCa.ca.cert);
    const refused = await stale.call(DESCRIBE, DescribeClusterRequest.encode({}).finish(), { authorization: bearer(KEYS.ops), deadlineMs: 3000 });
    stale.close();
    assert.ok(!refused.ok && (refused.code === status.UNAVAILABLE || refused.code === status.DEADLINE_EXCEEDED), codeOf(refused));

    // A worker that trusts only the new CA takes over adder; the old worker leaves.
    writeRole('worker-2', newCa.issue('worker-2'), newCa.ca.cert);
    newWorker = await startMaas(['worker', ...flags('worker-2'), '--port=0']);
    const admin = member(registry.grpcPort, newCa, newCa.ca.cert);
    const set = await admin.call('/maas.admin.v1.RegistryAdmin/SetReplicas', SetReplicasRequest.encode({ model: 'adder', minReplicas: 2, maxReplicas: 2 }).finish(), { authorization: bearer(KEYS.ops) });
    assert.equal(codeOf(set), 'OK', set.ok ? '' : set.details);
    const placed = Date.now() + 30_000;
    for (;;) {
      const described = await admin.call(DESCRIBE, DescribeClusterRequest.encode({}).finish(), { authorization: bearer(KEYS.ops) });
      if (described.ok && (DescribeClusterResponse.decode(described.bytes).models.find((m) => m.name === 'adder')?.readyReplicas ?? 0) >= 2) break;
      assert.ok(Date.now() < placed, `the new worker never got adder:\n${newWorker.log()}`);
      await sleep(200);
    }
    admin.close();
    assert.equal(await oldWorker.stop(), 0);
    await sleep(2000);
    stop = true;
    await load;
    // Served by the new worker alone: the scheduler reached it with its new client certificate.
    assert.equal(codeOf(await front.call(PREDICT, predict, { authorization: bearer(KEYS.reader) })), 'OK');
    front.close();
    // The front door's other faces: HTTPS with the same certificate, and no plaintext gRPC.
    const rest = await new Promise<number>((resolve, reject) =>
      httpsGet({ host: '127.0.0.1', port: scheduler.restPort, path: '/v1/models/adder', ca: externalCa.ca.cert, headers: { authorization: bearer(KEYS.reader) } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      }).once('error', reject),
    );
    assert.equal(rest, 200);
    const plain = new RawClient(`127.0.0.1:${scheduler.grpcPort}`);
    const refusedPlain = await plain.call(PREDICT, predict, { authorization: bearer(KEYS.reader), deadlineMs: 3000 });
    plain.close();
    assert.ok(!refusedPlain.ok && (refusedPlain.code === status.UNAVAILABLE || refusedPlain.code === status.DEADLINE_EXCEEDED), codeOf(refusedPlain));
    assert.deepEqual([...outcomes.keys()], ['OK'], JSON.stringify(Object.fromEntries(outcomes)));
    assert.ok(outcomes.get('OK')! > 50, `only ${outcomes.get('OK')} requests`);
  });
});
