import { RegistryAdminClient, type ScalingSettings } from '@maas/protos';
import { buildOnnxModel, loadTfServingClients, startMaas, writeModelVersion, type ServeProcess } from '@maas/test-support';
import { join } from 'node:path';
import { TestCluster } from '../cluster/cluster-harness.js';

/**
 * y = x + addend, like the adder, but each run also multiplies an N×N matrix (built from the input,
 * so onnxruntime cannot fold it away) `layers` times and adds 0 × its mean: requests take
 * milliseconds of real compute, so concurrency builds up on the workers under load.
 */
export function slowAdderModel(addend: number, n = 384, layers = 4): Uint8Array {
  const nodes = [
    { op: 'ReduceMean', inputs: ['x'], outputs: ['m'], attributes: { keepdims: 0 } },
    { op: 'Expand', inputs: ['m', 'square'], outputs: ['h0'] },
  ];
  for (let i = 0; i < layers; i++) nodes.push({ op: 'MatMul', inputs: [`h${i}`, 'w'], outputs: [`h${i + 1}`] });
  nodes.push(
    { op: 'ReduceMean', inputs: [`h${layers}`], outputs: ['s'], attributes: { keepdims: 0 } },
    { op: 'Mul', inputs: ['s', 'zero'], outputs: ['z'] },
    { op: 'Add', inputs: ['x', 'addend'], outputs: ['y0'] },
    { op: 'Add', inputs: ['y0', 'z'], outputs: ['y'] },
  );
  return buildOnnxModel({
    inputs: [{ name: 'x', type: 'float32', shape: ['batch', 'n'] }],
    outputs: [{ name: 'y', type: 'float32', shape: ['batch', 'n'] }],
    initializers: [
      { name: 'square', type: 'int64', dims: [2], values: [n, n] },
      { name: 'w', type: 'float32', dims: [n, n], values: Array<number>(n * n).fill(1 / n) },
      { name: 'zero', type: 'float32', dims: [], values: [0] },
      { name: 'addend', type: 'float32', dims: [], values: [addend] },
    ],
    nodes,
  });
}

/** A TestCluster whose scheduler and workers take extra flags (autoscaling, profiling). */
export class ScalingCluster extends TestCluster {
  constructor(
    private readonly schedulerFlags: string[],
    private readonly workerFlags: string[] = [],
  ) {
    super();
  }

  writeSlowAdder(name: string, version = 1): string {
    const base = join(this.modelRoot, name);
    writeModelVersion(base, version, slowAdderModel(version));
    return base;
  }

  override startWorker(extraFlags: string[] = []): Promise<ServeProcess> {
    return startMaas(['worker', ...this.redisFlags(), '--port=0', ...this.workerFlags, ...extraFlags]);
  }

  override async startScheduler(): Promise<void> {
    this.scheduler = await startMaas(['scheduler', ...this.redisFlags(), '--port=0', '--rest_api_port=-1', '--refresh_ms=100', '--placement_ms=300', ...this.schedulerFlags]);
    this.clients?.close();
    this.clients = loadTfServingClients(`127.0.0.1:${this.scheduler.grpcPort}`);
  }

  setScaling(model: string, min: number, max: number, scaling: ScalingSettings): Promise<void> {
    const admin: RegistryAdminClient = this.admin;
    return new Promise((resolve, reject) =>
      admin.setReplicas({ model, minReplicas: min, maxReplicas: max, scaling }, (error) => (error ? reject(error) : resolve())),
    );
  }
}
