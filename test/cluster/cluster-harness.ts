import { credentials } from '@grpc/grpc-js';
import { RegistryAdminClient, type DescribeClusterResponse } from '@maas/protos';
import { startLocalRedis, type LocalRedis } from '@maas/cli';
import { addConstantModel, callUnary, loadTfServingClients, makeTempDir, startMaas, writeModelVersion, type ServeProcess } from '@maas/test-support';
import { join } from 'node:path';

/** A real cluster for tests: its own redis-server, a registry, N workers and a scheduler, all child processes. */
export class TestCluster {
  redis!: LocalRedis;
  registry!: ServeProcess;
  scheduler!: ServeProcess;
  workers: ServeProcess[] = [];
  clients!: ReturnType<typeof loadTfServingClients>;
  admin!: RegistryAdminClient;
  readonly modelRoot = makeTempDir('maas-cluster-');
  private redisPort = 0;

  /** `adder` (y = x + version) with versions 1..n under modelRoot. */
  writeAdder(name: string, versions: number[]): string {
    const base = join(this.modelRoot, name);
    for (const v of versions) writeModelVersion(base, v, addConstantModel(v));
    return base;
  }

  redisFlags(): string[] {
    return [`--redis=${this.redis.url}`, '--grpc_host=127.0.0.1', '--heartbeat_ms=300'];
  }

  async start(workerCount: number, modelName: string, basePath: string): Promise<void> {
    this.redis = await startLocalRedis();
    this.redisPort = Number(new URL(this.redis.url).port);
    this.registry = await startMaas(['registry', ...this.redisFlags(), '--port=0', `--model_name=${modelName}`, `--model_base_path=${basePath}`]);
    this.workers = await Promise.all(Array.from({ length: workerCount }, () => this.startWorker()));
    await this.startScheduler();
    this.admin = new RegistryAdminClient(`127.0.0.1:${this.registry.grpcPort}`, credentials.createInsecure());
  }

  startWorker(): Promise<ServeProcess> {
    return startMaas(['worker', ...this.redisFlags(), '--port=0']);
  }

  async startScheduler(): Promise<void> {
    this.scheduler = await startMaas(['scheduler', ...this.redisFlags(), '--port=0', '--rest_api_port=-1', '--refresh_ms=100', '--placement_ms=300']);
    this.clients?.close();
    this.clients = loadTfServingClients(`127.0.0.1:${this.scheduler.grpcPort}`);
  }

  async restartRedis(downMs: number): Promise<void> {
    await this.redis.stop();
    await new Promise((r) => setTimeout(r, downMs));
    this.redis = await startLocalRedis({ port: this.redisPort });
  }

  describe(): Promise<DescribeClusterResponse> {
    return new Promise((resolve, reject) => this.admin.describeCluster({}, (error, response) => (error ? reject(error) : resolve(response))));
  }

  setReplicas(model: string, min: number, max: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.admin.setReplicas({ model, minReplicas: min, maxReplicas: max }, (error) => (error ? reject(error) : resolve())),
    );
  }

  /** Predict y = x + version through the scheduler; resolves with [version, y]. */
  async predict(model: string, x: number, deadlineMs = 10_000): Promise<[string, number]> {
    const response = await callUnary<{ outputs: Record<string, { tensor_content: Buffer }>; model_spec: { version: { value: string } } }>(
      this.clients.prediction,
      'Predict',
      {
        model_spec: { name: model },
        inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }, { size: '1' }] }, tensor_content: Buffer.from(Float32Array.from([x]).buffer) } },
      },
      { deadlineMs },
    );
    return [response.model_spec.version.value, new Float32Array(new Uint8Array(response.outputs.y!.tensor_content).buffer)[0]!];
  }

  async waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<number> {
    const start = Date.now();
    while (Date.now() - start < timeoutMs) {
      if (await Promise.resolve(check()).catch(() => false)) return Date.now() - start;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }

  async stop(): Promise<void> {
    this.clients?.close();
    this.admin?.close();
    await this.scheduler?.stop();
    await Promise.all(this.workers.map((w) => w.stop('SIGKILL')));
    await this.registry?.stop();
    await this.redis?.stop();
  }
}

/** Steady closed-loop load through the scheduler; counts outcomes by gRPC code. */
export async function steadyLoad(cluster: TestCluster, model: string, clients: number, until: () => boolean, maxRequests = 200_000) {
  const outcomes = new Map<string, number>();
  let sent = 0;
  const loop = async () => {
    while (!until() && sent < maxRequests) {
      sent++;
      const x = sent;
      try {
        const [version, y] = await cluster.predict(model, x);
        const ok = y === x + Number(version);
        outcomes.set(ok ? 'OK' : 'WRONG_ANSWER', (outcomes.get(ok ? 'OK' : 'WRONG_ANSWER') ?? 0) + 1);
      } catch (error) {
        const code = String((error as { code?: number }).code ?? 'THROWN');
        outcomes.set(code, (outcomes.get(code) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  return outcomes;
}
