// A real cluster for the cluster scenarios: registry, scheduler and N workers as separate
// `maas` processes on a shared redis-server (each cluster under its own key prefix), spawned
// through bench/processes.ts so a failed or interrupted run never leaves one behind.
import type { ChildProcess } from 'node:child_process';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { RegistryAdminClient, type DescribeClusterResponse } from '@maas/protos';
import { spawnNode, stopChild, waitReady } from '../../processes.js';

const MAAS = 'bin/maas.js';
const START_TIMEOUT_MS = 60_000;

export interface ClusterSpec {
  /** Short name for logs and key prefixes. */
  name: string;
  redisUrl: string;
  workers: number;
  /** onnxruntime intra-op threads of each worker's sessions (one session per version). */
  intraOpThreads: number;
  modelConfigFile: string;
  /** Node options of the scheduler process (e.g. --cpu-prof to profile the hop). */
  schedulerNodeArgs?: string[];
}

export interface WorkerProcess {
  id: string;
  pid: number;
  address: string;
  /** Port of the worker's GET /metrics (Prometheus text). */
  metricsPort?: number;
}

export interface LocalCluster {
  spec: ClusterSpec;
  schedulerAddress: string;
  schedulerPid: number;
  workers: WorkerProcess[];
  setReplicas(model: string, replicas: number): Promise<void>;
  /** Resolves once `replicas` workers report `model` ready, and the scheduler has had time to see it. */
  waitForReplicas(model: string, replicas: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function call<T>(invoke: (callback: (error: ServiceError | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => invoke((error, value) => (error ? reject(error) : resolve(value))));
}

/** Starts a registry, the workers and a scheduler; each gets free ports (metrics too) and the scheduler no REST listener. */
export async function startLocalCluster(spec: ClusterSpec): Promise<LocalCluster> {
  const common = [`--redis=${spec.redisUrl}`, `--redis_prefix=bench-${spec.name}:`, '--grpc_host=127.0.0.1', '--port=0'];
  const children: ChildProcess[] = [];
  const start = async (args: string[], label: string, nodeArgs: string[] = []) => {
    const child = spawnNode([...nodeArgs, MAAS, ...args], `${spec.name} ${label}`);
    children.push(child);
    return { child, ready: (await waitReady(child, START_TIMEOUT_MS)) as { grpcPort: number; id?: string; metricsPort?: number } };
  };
  try {
    const registry = await start(['registry', ...common, `--model_config_file=${spec.modelConfigFile}`], 'registry');
    const workers = await Promise.all(
      Array.from({ length: spec.workers }, (_, i) =>
        start(['worker', ...common, '--metrics_port=-1', `--intra_op_threads=${spec.intraOpThreads}`, '--session_instances=1'], `worker ${i}`),
      ),
    );
    // Default periods (refresh 250 ms, placement 1 s): the scheduler's background work is what a user's has.
    const scheduler = await start(['scheduler', ...common, '--metrics_port=-1', '--rest_api_port=0'], 'scheduler', spec.schedulerNodeArgs);
    const admin = new RegistryAdminClient(`127.0.0.1:${registry.ready.grpcPort}`, credentials.createInsecure());
    const describe = () => call<DescribeClusterResponse>((cb) => admin.describeCluster({}, cb));
    return {
      spec,
      schedulerAddress: `127.0.0.1:${scheduler.ready.grpcPort}`,
      schedulerPid: scheduler.child.pid!,
      workers: workers.map((w) => ({ id: w.ready.id ?? '', pid: w.child.pid!, address: `127.0.0.1:${w.ready.grpcPort}`, metricsPort: w.ready.metricsPort })),
      setReplicas: (model, replicas) => call((cb) => admin.setReplicas({ model, minReplicas: replicas, maxReplicas: replicas }, cb)).then(() => undefined),
      async waitForReplicas(model, replicas, timeoutMs = 120_000) {
        const end = Date.now() + timeoutMs;
        for (;;) {
          const ready = (await describe()).workers.filter((w) => w.readyModels.includes(model)).length;
          if (ready >= replicas) break;
          if (Date.now() > end) throw new Error(`${spec.name}: ${model} ready on ${ready} of ${replicas} workers after ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 200));
        }
        // Three refresh periods of the scheduler's view (250 ms by default).
        await new Promise((r) => setTimeout(r, 750));
      },
      async stop() {
        admin.close();
        await stopChild(scheduler.child);
        await Promise.all(workers.map((w) => stopChild(w.child)));
        await stopChild(registry.child);
      },
    };
  } catch (error) {
    await Promise.all(children.map((c) => stopChild(c)));
    throw error;
  }
}
