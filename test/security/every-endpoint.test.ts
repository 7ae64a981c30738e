import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  BatchJobsService,
  CancelBatchJobRequest,
  ClassificationRequest,
  DataType,
  DescribeClusterRequest,
  GetBatchJobRequest,
  GetModelMetadataRequest,
  GetModelStatusRequest,
  ListBatchJobsRequest,
  ModelServiceService,
  MultiInferenceRequest,
  PredictionServiceService,
  PredictRequest,
  RegistryAdminService,
  RegressionRequest,
  ReloadConfigRequest,
  BatchResultsRequest,
  SetReplicasRequest,
  SubmitBatchJobRequest,
} from '@maas/protos';
import type { AuditEntry } from '@maas/auth';
import { startLocalRedis, type LocalRedis } from '@maas/cli';
import { addConstantModel, makeTempDir, startMaas, writeModelVersion, type ServeProcess } from '@maas/test-support';
import { bearer } from './fixtures.js';
import { listServices, RawClient, codeName, type RawOutcome } from './raw-grpc.js';

/*
 * "With auth on, every endpoint refuses the wrong caller": every gRPC method of every role (the
 * services each role really serves, listed by server reflection, so a service added later fails
 * here until it is given a row below) and every REST route of `serve` and the scheduler, called by
 * no one, a stranger, and callers holding each permission on the model or on every model. The
 * expected table is docs/security.md's, written out here rather than read from access-rules.ts.
 */

type Need = 'predict' | 'read_metadata' | 'administer-model' | 'administer-all' | 'read-all';

/** Callers: a key each, with the grants the auth config gives it. */
const CALLERS = {
  stranger: { key: 'stranger-key-0123456789', roles: { unrelated: ['administer'] } },
  predictor: { key: 'predictor-key-0123456789', roles: { adder: ['predict'] } },
  reader: { key: 'reader-key-0123456789', roles: { adder: ['read_metadata'] } },
  owner: { key: 'owner-key-0123456789', roles: { adder: ['administer'] } },
  ops: { key: 'ops-key-0123456789', roles: { '*': ['administer'] } },
} as const;
type Caller = keyof typeof CALLERS;
const SERVICE_KEY = 'service-key-0123456789';

/** Who may make a call that needs `need` on the model adder (everyone else is refused). */
const ALLOWED: Record<Need, readonly Caller[]> = {
  predict: ['predictor', 'owner', 'ops'],
  read_metadata: ['reader', 'owner', 'ops'],
  'administer-model': ['owner', 'ops'],
  'administer-all': ['ops'],
  'read-all': ['ops'],
};

const spec = { name: 'adder' };
const adderConfig = (base: string) => ({ modelConfigList: { config: [{ name: 'adder', basePath: base, modelPlatform: 'onnx' }] } });

/** What each gRPC method needs, and a request naming the model adder (harmless to send as ops). */
function grpcMethods(dir: string): Record<string, { need: Need; request: Uint8Array }> {
  const base = join(dir, 'adder');
  return {
    '/tensorflow.serving.PredictionService/Predict': {
      need: 'predict',
      request: PredictRequest.encode(PredictRequest.fromPartial({ modelSpec: spec, inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 1n }, { size: 1n }] }, floatVal: [1] } } })).finish(),
    },
    '/tensorflow.serving.PredictionService/Classify': { need: 'predict', request: ClassificationRequest.encode(ClassificationRequest.fromPartial({ modelSpec: spec })).finish() },
    '/tensorflow.serving.PredictionService/Regress': { need: 'predict', request: RegressionRequest.encode(RegressionRequest.fromPartial({ modelSpec: spec })).finish() },
    '/tensorflow.serving.PredictionService/MultiInference': {
      need: 'predict',
      request: MultiInferenceRequest.encode(MultiInferenceRequest.fromPartial({ tasks: [{ modelSpec: spec, methodName: 'tensorflow/serving/regress' }] })).finish(),
    },
    '/tensorflow.serving.PredictionService/GetModelMetadata': {
      need: 'read_metadata',
      request: GetModelMetadataRequest.encode(GetModelMetadataRequest.fromPartial({ modelSpec: spec, metadataField: ['signature_def'] })).finish(),
    },
    '/tensorflow.serving.ModelService/GetModelStatus': { need: 'read_metadata', request: GetModelStatusRequest.encode(GetModelStatusRequest.fromPartial({ modelSpec: spec })).finish() },
    '/tensorflow.serving.ModelService/HandleReloadConfigRequest': { need: 'administer-all', request: ReloadConfigRequest.encode(ReloadConfigRequest.fromPartial({ config: adderConfig(base) })).finish() },
    '/maas.admin.v1.RegistryAdmin/SetReplicas': { need: 'administer-model', request: SetReplicasRequest.encode(SetReplicasRequest.fromPartial({ model: 'adder', minReplicas: 1, maxReplicas: 1 })).finish() },
    '/maas.admin.v1.RegistryAdmin/DescribeCluster': { need: 'administer-all', request: DescribeClusterRequest.encode({}).finish() },
    '/maas.batch.v1.BatchJobs/Submit': {
      need: 'administer-model',
      request: SubmitBatchJobRequest.encode(SubmitBatchJobRequest.fromPartial({ modelSpec: spec, instances: ['[1]'], outputPath: join(dir, 'batch-out.jsonl') })).finish(),
    },
    '/maas.batch.v1.BatchJobs/Get': { need: 'administer-all', request: GetBatchJobRequest.encode({ id: 'no-such-job' }).finish() },
    '/maas.batch.v1.BatchJobs/Cancel': { need: 'administer-all', request: CancelBatchJobRequest.encode({ id: 'no-such-job' }).finish() },
    '/maas.batch.v1.BatchJobs/List': { need: 'administer-all', request: ListBatchJobsRequest.encode({ limit: 1 }).finish() },
    '/maas.batch.v1.BatchJobs/Results': { need: 'administer-all', request: BatchResultsRequest.encode(BatchResultsRequest.fromPartial({ id: 'no-such-job', limit: 1 })).finish() },
  };
}

/** The generated definition of each service a role may serve: its methods are the ones checked. */
const SERVICES: Record<string, object> = {
  'tensorflow.serving.PredictionService': PredictionServiceService,
  'tensorflow.serving.ModelService': ModelServiceService,
  'maas.admin.v1.RegistryAdmin': RegistryAdminService,
  'maas.batch.v1.BatchJobs': BatchJobsService,
};
/** Health is open to anyone (checked in serve-auth.test.ts), reflection to any authenticated caller (checked here). */
const OPEN_SERVICES = new Set(['grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection']);

const REFUSED = new Set(['UNAUTHENTICATED', 'PERMISSION_DENIED']);
const codeOf = (outcome: RawOutcome) => (outcome.ok ? 'OK' : codeName(outcome.code));

/** Every method the role serves (by reflection), called by everyone: the refusals must be exactly those of the table. */
async function checkRole(name: string, port: number, dir: string, expectedServices: string[]): Promise<number> {
  const client = new RawClient(`127.0.0.1:${port}`);
  try {
    const services = await listServices(client, bearer(CALLERS.stranger.key));
    assert.deepEqual(services.filter((s) => !OPEN_SERVICES.has(s)).sort(), [...expectedServices].sort(), `${name} serves exactly these services`);
    assert.ok(services.includes('grpc.health.v1.Health'));
    await assert.rejects(listServices(client), /UNAUTHENTICATED|Missing credentials/, `${name}: reflection needs credentials`);
    const methods = grpcMethods(dir);
    let calls = 0;
    for (const service of expectedServices) {
      for (const method of Object.values(SERVICES[service] as Record<string, { path: string }>)) {
        const row = methods[method.path];
        assert.ok(row, `${method.path} has no row in this test: say what it needs (and in docs/security.md)`);
        for (const authorization of [undefined, 'Bearer not-a-key', `Basic ${Buffer.from('ops:x').toString('base64')}`, CALLERS.ops.key]) {
          const outcome = await client.call(method.path, row.request, { authorization });
          assert.equal(codeOf(outcome), 'UNAUTHENTICATED', `${name} ${method.path} with ${authorization}`);
          calls++;
        }
        for (const caller of Object.keys(CALLERS) as Caller[]) {
          const outcome = await client.call(method.path, row.request, { authorization: bearer(CALLERS[caller].key), deadlineMs: 20_000 });
          const code = codeOf(outcome);
          const where = `${name} ${method.path} as ${caller}: ${code} ${outcome.ok ? '' : outcome.details}`;
          if (ALLOWED[row.need].includes(caller)) assert.ok(!REFUSED.has(code), where);
          else {
            assert.equal(code, 'PERMISSION_DENIED', where);
            // The refusal names the caller and what it asked for, nothing the server knows.
            assert.match(outcome.ok ? '' : outcome.details, new RegExp(`^Permission denied: ${caller} may not .*(model 'adder'|the cluster)`), where);
          }
          calls++;
        }
      }
    }
    return calls;
  } finally {
    client.close();
  }
}

/** Every REST route (TF's seven patterns with their version and label forms, pages, the batch API) by every caller. */
function restRoutes(extra: Array<[string, string, Need]>): Array<[string, string, Need]> {
  const routes: Array<[string, string, Need]> = [];
  for (const at of ['', '/versions/1', '/labels/stable']) {
    routes.push(['GET', `/v1/models/adder${at}`, 'read_metadata'], ['GET', `/v1/models/adder${at}/metadata`, 'read_metadata']);
    for (const verb of ['predict', 'classify', 'regress']) routes.push(['POST', `/v1/models/adder${at}:${verb}`, 'predict']);
  }
  return [...routes, ...extra];
}

async function checkRest(name: string, port: number, routes: Array<[string, string, Need]>): Promise<void> {
  const call = async (method: string, path: string, authorization?: string) => {
    const body = method === 'POST' ? (path.startsWith('/v1/batch/') ? JSON.stringify({ model_spec: spec, instances: [[1]], output_path: '/nonexistent/out.jsonl' }) : '{"instances": [[1]]}') : undefined;
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { method, body, redirect: 'manual', headers: authorization ? { authorization } : {} });
    const text = await response.text();
    return { status: response.status, text };
  };
  for (const [method, path, need] of routes) {
    for (const authorization of [undefined, 'Bearer not-a-key', CALLERS.ops.key]) {
      const answer = await call(method, path, authorization);
      assert.equal(answer.status, 401, `${name} ${method} ${path} with ${authorization}: ${answer.text}`);
      assert.match(JSON.parse(answer.text).error, /credentials/);
    }
    for (const caller of Object.keys(CALLERS) as Caller[]) {
      const answer = await call(method, path, bearer(CALLERS[caller].key));
      const where = `${name} ${method} ${path} as ${caller}: ${answer.status} ${answer.text.slice(0, 200)}`;
      if (ALLOWED[need].includes(caller)) assert.ok(answer.status !== 401 && answer.status !== 403, where);
      else {
        assert.equal(answer.status, 403, where);
        assert.match(JSON.parse(answer.text).error, new RegExp(`^Permission denied: ${caller} may not`), where);
      }
    }
  }
}

function writeConfigs(dir: string): { auth: string; monitoring: string } {
  const auth = join(dir, 'auth.json');
  writeFileSync(
    auth,
    JSON.stringify({
      api_keys: Object.entries(CALLERS).map(([name, { key, roles }]) => ({ name, key, roles })),
      service_key: SERVICE_KEY,
    }),
  );
  const monitoring = join(dir, 'monitoring.config');
  writeFileSync(monitoring, 'prometheus_config { enable: true path: "/monitoring/prometheus/metrics" }\n');
  return { auth, monitoring };
}

const BATCH_ROUTES: Array<[string, string, Need]> = [
  ['POST', '/v1/batch/jobs', 'administer-all'],
  ['GET', '/v1/batch/jobs', 'administer-all'],
  ['GET', '/v1/batch/jobs/no-such-job', 'administer-all'],
  ['POST', '/v1/batch/jobs/no-such-job:cancel', 'administer-all'],
  ['GET', '/v1/batch/jobs/no-such-job/results', 'administer-all'],
  ['GET', '/v1/batch/no-such-route', 'administer-all'],
];

describe('with auth on, every endpoint refuses the wrong caller: maas serve', () => {
  const dir = makeTempDir('maas-every-endpoint-serve-');
  let server: ServeProcess;

  before(async () => {
    writeModelVersion(join(dir, 'adder'), 1, addConstantModel(1));
    const { auth, monitoring } = writeConfigs(dir);
    server = await startMaas([
      'serve', '--port=0', '--grpc_host=127.0.0.1', '--rest_api_port=-1', '--model_name=adder', `--model_base_path=${join(dir, 'adder')}`,
      `--auth_config_file=${auth}`, '--audit_log_file=-', `--monitoring_config_file=${monitoring}`,
    ]);
  });

  after(() => server?.stop());

  test('every gRPC method', async () => {
    const calls = await checkRole('serve', server.grpcPort, dir, ['tensorflow.serving.PredictionService', 'tensorflow.serving.ModelService']);
    assert.equal(calls, 7 * 9);
  });

  test('every REST route and page', async () => {
    await checkRest('serve', server.restPort!, restRoutes([['GET', '/monitoring/prometheus/metrics', 'read-all']]));
  });
});

describe('with auth on, every endpoint refuses the wrong caller: the cluster', () => {
  const dir = makeTempDir('maas-every-endpoint-cluster-');
  let redis: LocalRedis;
  const roles: ServeProcess[] = [];
  let registry: ServeProcess;
  let worker: ServeProcess;
  let scheduler: ServeProcess;

  before(async () => {
    writeModelVersion(join(dir, 'adder'), 1, addConstantModel(1));
    const { auth, monitoring } = writeConfigs(dir);
    redis = await startLocalRedis();
    const common = [`--redis=${redis.url}`, '--grpc_host=127.0.0.1', '--heartbeat_ms=300', `--auth_config_file=${auth}`, '--audit_log_file=-'];
    roles.push((registry = await startMaas(['registry', ...common, '--port=0', '--model_name=adder', `--model_base_path=${join(dir, 'adder')}`])));
    roles.push((worker = await startMaas(['worker', ...common, '--port=0'])));
    roles.push((scheduler = await startMaas(['scheduler', ...common, '--port=0', '--rest_api_port=-1', '--refresh_ms=100', '--placement_ms=300', `--monitoring_config_file=${monitoring}`])));
    const front = new RawClient(`127.0.0.1:${scheduler.grpcPort}`);
    const predict = grpcMethods(dir)['/tensorflow.serving.PredictionService/Predict']!.request;
    const deadline = Date.now() + 30_000;
    while (codeOf(await front.call('/tensorflow.serving.PredictionService/Predict', predict, { authorization: bearer(CALLERS.ops.key) })) !== 'OK') {
      if (Date.now() > deadline) throw new Error(`adder never became routable:\n${scheduler.log()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    front.close();
  });

  after(async () => {
    for (const role of roles.reverse()) await role.stop();
    await redis?.stop();
  });

  test('every gRPC method of the scheduler (front door and batch API)', async () => {
    const calls = await checkRole('scheduler', scheduler.grpcPort, dir, ['tensorflow.serving.PredictionService', 'tensorflow.serving.ModelService', 'maas.batch.v1.BatchJobs']);
    assert.equal(calls, 12 * 9);
  });

  test("every gRPC method of a worker (its internal API)", async () => {
    const calls = await checkRole('worker', worker.grpcPort, dir, ['tensorflow.serving.PredictionService']);
    assert.equal(calls, 5 * 9);
  });

  test('every gRPC method of the registry (its admin API)', async () => {
    const calls = await checkRole('registry', registry.grpcPort, dir, ['tensorflow.serving.ModelService', 'maas.admin.v1.RegistryAdmin']);
    assert.equal(calls, 4 * 9);
  });

  test('every REST route, page and batch route of the scheduler', async () => {
    const pages: Array<[string, string, Need]> = ['/dashboard', '/dashboard/', '/dashboard/state', '/monitoring/prometheus/metrics'].map((path) => ['GET', path, 'read-all']);
    await checkRest('scheduler', scheduler.restPort!, restRoutes([...pages, ...BATCH_ROUTES]));
  });

  test('the administrative calls above are in the audit logs: who, what, when, outcome', async () => {
    // The roles write the lines to stderr; they reach us through pipes.
    await new Promise((r) => setTimeout(r, 500));
    const entries = (process: ServeProcess) =>
      process
        .log()
        .split('\n')
        .filter((line) => line.includes('"outcome":'))
        .map((line) => JSON.parse(line.slice(line.indexOf('{'))) as AuditEntry);
    const has = (list: AuditEntry[], principal: string, action: string, outcome: string, target?: string[]) =>
      assert.ok(
        list.some((e) => e.principal === principal && e.action === action && e.outcome === outcome && (!target || JSON.stringify(e.target) === JSON.stringify(target))),
        `no audit entry ${principal} ${action} ${outcome}`,
      );
    const front = entries(scheduler);
    has(front, 'ops', '/maas.batch.v1.BatchJobs/List', 'ok', ['*']);
    has(front, 'predictor', '/maas.batch.v1.BatchJobs/List', 'denied', ['*']);
    has(front, 'unauthenticated', '/maas.batch.v1.BatchJobs/List', 'unauthenticated');
    has(front, 'owner', '/maas.batch.v1.BatchJobs/Submit', 'ok', ['adder']);
    has(front, 'reader', '/maas.batch.v1.BatchJobs/Submit', 'denied', ['adder']);
    has(front, 'ops', '/maas.batch.v1.BatchJobs/Get', 'failed');
    has(front, 'ops', '/tensorflow.serving.ModelService/HandleReloadConfigRequest', 'ok', ['*']);
    has(front, 'ops', 'GET /v1/batch/jobs', 'ok', ['*']);
    has(front, 'owner', 'POST /v1/batch/jobs', 'denied', ['*']);
    has(front, 'unauthenticated', 'GET /v1/batch/jobs/no-such-job', 'unauthenticated');
    assert.ok(front.every((e) => /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(e.time) && e.peer.includes('127.0.0.1')));
    assert.ok(!front.some((e) => e.action.endsWith('/Predict') || e.action.includes(':predict')), 'only administrative calls are audited');
    const registryLog = entries(registry);
    has(registryLog, 'owner', '/maas.admin.v1.RegistryAdmin/SetReplicas', 'ok', ['adder']);
    has(registryLog, 'predictor', '/maas.admin.v1.RegistryAdmin/SetReplicas', 'denied', ['adder']);
    has(registryLog, 'reader', '/maas.admin.v1.RegistryAdmin/DescribeCluster', 'denied', ['*']);
    assert.deepEqual(entries(worker), [], 'a worker serves nothing administrative');
  });
});
