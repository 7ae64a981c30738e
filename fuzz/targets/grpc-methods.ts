import { join } from 'node:path';
import fc from 'fast-check';
import * as grpc from '@grpc/grpc-js';
import {
  BatchJobsService,
  GetModelStatusRequest,
  ModelServiceService,
  PredictionServiceService,
  PredictRequest,
  RegistryAdminService,
  ReloadConfigRequest,
  SubmitBatchJobRequest,
} from '@maas/protos';
import { startLocalRedis, type LocalRedis } from '@maas/cli';
import { addConstantModel, makeTempDir, startMaas, writeModelVersion, type ServeProcess } from '@maas/test-support';
import { mutatedBytes } from '../arbitraries.js';
import type { FuzzProperty, FuzzTarget } from '../target.js';
import { SERVER_FAULTS } from './predict-request.js';

/*
 * Every method of every role, over real gRPC: bytes that do not decode as the method's request
 * must get INVALID_ARGUMENT naming the method; bytes that do decode (read-only methods only: a
 * random reload would wipe the catalogue) must get an answer that is not a server fault.
 */

interface Method {
  path: string;
  decode(bytes: Buffer): unknown;
}

type ServiceDefinition = Record<string, { path: string; requestDeserialize(bytes: Buffer): unknown }>;

const methodsOf = (service: unknown): Method[] => Object.values(service as ServiceDefinition).map((m) => ({ path: m.path, decode: m.requestDeserialize }));

/** Methods that change state: only undecodable bytes are sent to them. */
const MUTATING = new Set([
  '/tensorflow.serving.ModelService/HandleReloadConfigRequest',
  '/maas.admin.v1.RegistryAdmin/SetReplicas',
  '/maas.batch.v1.BatchJobs/Submit',
  '/maas.batch.v1.BatchJobs/Cancel',
]);

/** Valid requests to mutate, per method (others start from the empty message). */
const SEEDS: Record<string, Uint8Array> = {
  '/tensorflow.serving.PredictionService/Predict': PredictRequest.encode(
    PredictRequest.fromPartial({ modelSpec: { name: 'adder' }, inputs: { x: { dtype: 1, tensorShape: { dim: [{ size: 1n }, { size: 1n }] }, floatVal: [1] } } }),
  ).finish(),
  '/tensorflow.serving.ModelService/GetModelStatus': GetModelStatusRequest.encode({ modelSpec: { name: 'adder', signatureName: '' } }).finish(),
  '/tensorflow.serving.ModelService/HandleReloadConfigRequest': ReloadConfigRequest.encode(ReloadConfigRequest.fromPartial({ config: { modelConfigList: { config: [{ name: 'adder', basePath: '/x' }] } } })).finish(),
  '/maas.batch.v1.BatchJobs/Submit': SubmitBatchJobRequest.encode(SubmitBatchJobRequest.fromPartial({ modelSpec: { name: 'adder' }, instances: ['[1]'] })).finish(),
};

interface Role {
  name: string;
  client: grpc.Client;
  methods: Method[];
}

interface Cluster {
  processes: ServeProcess[];
  redis: LocalRedis;
  roles: Role[];
}

const identity = (bytes: Buffer) => bytes;

function call(client: grpc.Client, path: string, bytes: Uint8Array): Promise<grpc.ServiceError | undefined> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, identity, identity, Buffer.from(bytes), new grpc.Metadata(), { deadline: Date.now() + 5000 }, (error) => resolve(error ?? undefined));
  });
}

function decodes(method: Method, bytes: Uint8Array): boolean {
  try {
    method.decode(Buffer.from(bytes));
    return true;
  } catch {
    return false;
  }
}

export const grpcMethodsTarget: FuzzTarget<Cluster> = {
  name: 'grpc-methods',
  async setup() {
    const dir = makeTempDir('maas-fuzz-grpc-');
    const base = join(dir, 'adder');
    writeModelVersion(base, 1, addConstantModel(1));
    const redis = await startLocalRedis();
    const common = [`--redis=${redis.url}`, '--grpc_host=127.0.0.1', '--heartbeat_ms=300'];
    const registry = await startMaas(['registry', ...common, '--port=0', '--model_name=adder', `--model_base_path=${base}`]);
    const worker = await startMaas(['worker', ...common, '--port=0']);
    const scheduler = await startMaas(['scheduler', ...common, '--port=0', '--rest_api_port=0', '--refresh_ms=100', '--placement_ms=300']);
    const serve = await startMaas(['serve', '--port=0', '--grpc_host=127.0.0.1', '--rest_api_port=0', '--model_name=adder', `--model_base_path=${base}`]);
    const client = (process: ServeProcess) => new grpc.Client(`127.0.0.1:${process.grpcPort}`, grpc.credentials.createInsecure());
    const prediction = methodsOf(PredictionServiceService);
    const model = methodsOf(ModelServiceService);
    return {
      redis,
      processes: [serve, scheduler, worker, registry],
      roles: [
        { name: 'serve', client: client(serve), methods: [...prediction, ...model] },
        { name: 'scheduler', client: client(scheduler), methods: [...prediction, ...model, ...methodsOf(BatchJobsService)] },
        { name: 'worker', client: client(worker), methods: prediction },
        { name: 'registry', client: client(registry), methods: [...model, ...methodsOf(RegistryAdminService)] },
      ],
    };
  },
  async teardown({ processes, redis, roles }) {
    for (const role of roles) role.client.close();
    for (const process of processes) await process.stop();
    await redis.stop();
  },
  property: ({ roles }) => {
    // Names, not objects, in the cases: a counterexample then prints as role, path and bytes.
    const cases = fc
      .constantFrom(...roles.flatMap((role) => role.methods.map((method) => [role.name, method.path] as const)))
      .chain(([role, path]) => fc.tuple(fc.constant(role), fc.constant(path), mutatedBytes(fc.constant(SEEDS[path] ?? new Uint8Array()))));
    return fc.asyncProperty(cases, async ([roleName, path, bytes]) => {
      const role = roles.find((r) => r.name === roleName)!;
      const method = role.methods.find((m) => m.path === path)!;
      // A first tag with wire type 7 makes any message undecodable.
      const sent = MUTATING.has(method.path) && decodes(method, bytes) ? Uint8Array.from([0x0f, ...bytes]) : bytes;
      const error = await call(role.client, method.path, sent);
      const where = `${role.name} ${method.path} <${Buffer.from(sent).toString('hex')}>`;
      if (!decodes(method, sent)) {
        if (error?.code !== grpc.status.INVALID_ARGUMENT || !error.details.includes(method.path)) {
          throw new Error(`${where}: expected INVALID_ARGUMENT naming the method, got ${error ? `${grpc.status[error.code]}: ${error.details}` : 'OK'}`);
        }
      } else if (error && (SERVER_FAULTS.has(error.code) || error.code === grpc.status.DEADLINE_EXCEEDED)) {
        throw new Error(`${where}: ${grpc.status[error.code]}: ${error.details}`);
      }
      return true;
    }) as FuzzProperty;
  },
};
