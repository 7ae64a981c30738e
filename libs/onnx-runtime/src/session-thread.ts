import { Worker } from 'node:worker_threads';
import ort from 'onnxruntime-node';

type Tensors = Record<string, ort.Tensor>;
interface WireTensor {
  type: ort.Tensor.Type;
  data: ort.Tensor.DataType;
  dims: readonly number[];
}
type Reply =
  | { kind: 'ready'; inputMetadata: ort.InferenceSession.ValueMetadata[]; outputMetadata: ort.InferenceSession.ValueMetadata[] }
  | { kind: 'failed'; message: string }
  | { kind: 'released' }
  | { kind: 'result'; id: number; outputs?: Record<string, WireTensor>; error?: string };

/** Exactly the tensor's elements, in a buffer of their own that can be moved to the thread. */
function toWire(tensor: ort.Tensor): { wire: WireTensor; transfer?: ArrayBuffer } {
  if (tensor.type === 'string') return { wire: { type: tensor.type, data: tensor.data, dims: tensor.dims } };
  // A view over a request buffer would be cloned with the whole buffer: one compact copy instead.
  const data = (tensor.data as Float32Array).slice();
  return { wire: { type: tensor.type, data, dims: tensor.dims }, transfer: data.buffer };
}

/**
 * One onnxruntime session on a worker thread. onnxruntime-node's run() occupies the calling
 * thread for the whole run, so on the main thread a run stops gRPC and HTTP work until it ends;
 * here requests are received, decoded and answered while the model computes. The thread keeps
 * the process alive only while runs are in flight.
 */
export class SessionThread {
  private readonly pending = new Map<number, { resolve: (outputs: Tensors) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private exited = false;

  private constructor(
    private readonly worker: Worker,
    readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[],
    readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[],
  ) {
    worker.on('message', (reply: Reply) => {
      if (reply.kind !== 'result') return;
      const call = this.pending.get(reply.id)!;
      this.settled(reply.id);
      if (reply.error !== undefined) call.reject(new Error(reply.error));
      else call.resolve(Object.fromEntries(Object.entries(reply.outputs!).map(([name, t]) => [name, new ort.Tensor(t.type, t.data as never, t.dims)])));
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => {
      this.exited = true;
      this.failAll(new Error(`onnxruntime session thread exited with code ${code}`));
    });
    worker.unref();
  }

  /** Builds the session on a new thread; rejects with onnxruntime's message when it cannot. */
  static async start(model: Uint8Array, sessionOptions: ort.InferenceSession.SessionOptions): Promise<SessionThread> {
    const worker = new Worker(new URL('./session-worker.mjs', import.meta.url), { workerData: { model, sessionOptions } });
    const reply = await new Promise<Reply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (reply.kind === 'ready') return new SessionThread(worker, reply.inputMetadata, reply.outputMetadata);
    await worker.terminate();
    throw new Error(reply.kind === 'failed' ? reply.message : `unexpected reply ${reply.kind}`);
  }

  run(feeds: Tensors, outputNames?: readonly string[]): Promise<Tensors> {
    const id = this.nextId++;
    const wired: Record<string, WireTensor> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, tensor] of Object.entries(feeds)) {
      const { wire, transfer: buffer } = toWire(tensor);
      wired[name] = wire;
      if (buffer) transfer.push(buffer);
    }
    return new Promise<Tensors>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ kind: 'run', id, feeds: wired, outputNames }, transfer);
    });
  }

  /** Releases the session, then ends the thread. */
  async release(): Promise<void> {
    if (this.exited) return;
    this.worker.ref();
    const released = new Promise<void>((resolve) => {
      this.worker.on('message', (reply: Reply) => reply.kind === 'released' && resolve());
      this.worker.once('exit', () => resolve());
    });
    this.worker.postMessage({ kind: 'release' });
    await released;
    await this.worker.terminate();
  }

  private settled(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }

  private failAll(error: Error): void {
    for (const [id, call] of this.pending) {
      this.settled(id);
      call.reject(error);
    }
  }
}
