import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { DataType, DescribeClusterResponse, GetModelStatusRequest, GetModelStatusResponse, PredictRequest, PredictResponse, RegistryAdminClient, SetReplicasRequest } from '@maas/protos';
import { startLocalRedis, type LocalRedis } from '@maas/cli';
import { addConstantModel, makeTempDir, startMaas, writeModelVersion, type ServeProcess } from '@maas/test-support';
import { freePorts } from './ports.js';

export const MODEL = 'adder';

/**
 * A real cluster of child processes on one Redis, as `maas up` runs it, with handles to hurt each
 * part: kill -9 and restart any role (the scheduler comes back on its port, as behind a service
 * address), restart Redis, pause a worker, drop a broken version into the model directory.
 */
export class ChaosCluster {
  readonly root = makeTempDir('maas-chaos-');
  readonly modelBase = join(this.root, MODEL);
  redis!: LocalRedis;
  private redisPort = 0;
  registry!: ServeProcess;
  scheduler!: ServeProcess;
  workers: ServeProcess[] = [];
  schedulerPort = 0;
  restPort = 0;

  constructor(
    readonly workerCount: number,
    readonly replicas: number,
    private readonly log: (line: string) => void,
  ) {}

  private common(): string[] {
    return [`--redis=${this.redis.url}`, '--grpc_host=127.0.0.1', '--heartbeat_ms=300'];
  }

  async start(): Promise<void> {
    writeModelVersion(this.modelBase, 1, addConstantModel(1));
    const [redisPort, schedulerPort, restPort] = await freePorts(3);
    [this.schedulerPort, this.restPort] = [schedulerPort!, restPort!];
    this.redisPort = redisPort!;
    // Append-only, restarted on the same port: Redis restarts the way a production one does (data kept).
    this.redis = await startLocalRedis({ port: this.redisPort, appendOnlyDir: this.root });
    await this.startRegistry();
    this.workers = await Promise.all(Array.from({ length: this.workerCount }, () => this.startWorker()));
    await this.startScheduler();
    await this.setReplicas(this.replicas);
  }

  async startRegistry(): Promise<void> {
    this.registry = await startMaas(['registry', ...this.common(), '--port=0', `--model_name=${MODEL}`, `--model_base_path=${this.modelBase}`]);
  }

  startWorker(): Promise<ServeProcess> {
    return startMaas(['worker', ...this.common(), '--port=0']);
  }

  async startScheduler(): Promise<void> {
    this.scheduler = await startMaas(['scheduler', ...this.common(), `--port=${this.schedulerPort}`, `--rest_api_port=${this.restPort}`, '--refresh_ms=100', '--placement_ms=300']);
  }

  /** kill -9 of worker `index`, and a new worker in its place (as an orchestrator would start one). */
  async replaceWorker(index: number): Promise<void> {
    const victim = this.workers[index]!;
    await victim.stop('SIGKILL');
    this.log(`killed worker ${victim.id}`);
    this.workers[index] = await this.startWorker();
  }

  async restartScheduler(): Promise<void> {
    await this.scheduler.stop('SIGKILL');
    await this.startScheduler();
  }

  async restartRegistry(): Promise<void> {
    await this.registry.stop('SIGKILL');
    await this.startRegistry();
  }

  async restartRedis(downMs: number): Promise<void> {
    await this.redis.stop();
    await new Promise((r) => setTimeout(r, downMs));
    this.redis = await startLocalRedis({ port: this.redisPort, appendOnlyDir: this.root });
  }

  /** SIGSTOP/SIGCONT bursts: the worker hangs with its sockets open, then resumes. */
  async pauseWorker(index: number, bursts: number, stoppedMs: number, runningMs: number): Promise<void> {
    const child = this.workers[index]!.child;
    for (let i = 0; i < bursts; i++) {
      child.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, stoppedMs));
      child.kill('SIGCONT');
      await new Promise((r) => setTimeout(r, runningMs));
    }
  }

  /** A new version whose model.onnx is not a model: it must end with an error while version 1 serves on. */
  corruptNewVersion(version: number): void {
    writeModelVersion(this.modelBase, version, new TextEncoder().encode('this is not an ONNX model'));
  }

  private admin<T>(call: (client: RegistryAdminClient, done: (error: grpc.ServiceError | null, value?: T) => void) => void): Promise<T> {
    const client = new RegistryAdminClient(`127.0.0.1:${this.registry.grpcPort}`, grpc.credentials.createInsecure());
    return new Promise<T>((resolve, reject) =>
      call(client, (error, value) => {
        client.close();
        if (error) reject(error);
        else resolve(value!);
      }),
    ).finally(() => client.close());
  }

  describe(): Promise<DescribeClusterResponse> {
    return this.admin((client, done) => client.describeCluster({}, new grpc.Metadata(), { deadline: Date.now() + 3000 }, done));
  }

  setReplicas(count: number): Promise<void> {
    const request = SetReplicasRequest.fromPartial({ model: MODEL, minReplicas: count, maxReplicas: count });
    return this.admin((client, done) => client.setReplicas(request, new grpc.Metadata(), { deadline: Date.now() + 3000 }, (error) => done(error)));
  }

  /** One Predict through the scheduler (1 s deadline): whether it answered y = x + 1. */
  probe(): Promise<boolean> {
    const client = new grpc.Client(`127.0.0.1:${this.schedulerPort}`, grpc.credentials.createInsecure());
    const request = PredictRequest.fromPartial({ modelSpec: { name: MODEL }, inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 1n }, { size: 1n }] }, floatVal: [41] } } });
    return new Promise<boolean>((resolve) =>
      client.makeUnaryRequest('/tensorflow.serving.PredictionService/Predict', (r: PredictRequest) => Buffer.from(PredictRequest.encode(r).finish()), (b: Buffer) => PredictResponse.decode(b), request, new grpc.Metadata(), { deadline: Date.now() + 1000 }, (error, response) => {
        const y = response?.outputs.y;
        resolve(!error && new Float32Array(new Uint8Array(y?.tensorContent ?? new Uint8Array(4)).buffer)[0] === 42);
      }),
    ).finally(() => client.close());
  }

  /** GetModelStatus through the scheduler. */
  modelStatus(): Promise<GetModelStatusResponse> {
    const client = new grpc.Client(`127.0.0.1:${this.schedulerPort}`, grpc.credentials.createInsecure());
    const bytes = Buffer.from(GetModelStatusRequest.encode({ modelSpec: { name: MODEL, signatureName: '' } }).finish());
    return new Promise<GetModelStatusResponse>((resolve, reject) =>
      client.makeUnaryRequest('/tensorflow.serving.ModelService/GetModelStatus', (b: Buffer) => b, (b: Buffer) => GetModelStatusResponse.decode(b), bytes, new grpc.Metadata(), { deadline: Date.now() + 3000 }, (error, response) =>
        error ? reject(error) : resolve(response!),
      ),
    ).finally(() => client.close());
  }

  /** Exactly the running workers reporting (a killed one's report gone), and the model on as many as it should be. */
  async healthy(): Promise<boolean> {
    const description = await this.describe();
    const reporting = description.workers.filter((w) => !w.draining).map((w) => w.id).sort();
    const running = this.workers.map((w) => w.id!).sort();
    const model = description.models.find((m) => m.name === MODEL);
    return JSON.stringify(reporting) === JSON.stringify(running) && (model?.readyReplicas ?? 0) >= this.replicas;
  }

  async stop(): Promise<void> {
    await this.scheduler?.stop();
    await Promise.all(this.workers.map((w) => w.stop('SIGKILL')));
    await this.registry?.stop();
    await this.redis?.stop();
  }
}
