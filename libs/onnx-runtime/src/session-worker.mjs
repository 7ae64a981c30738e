// The inside of a SessionThread (session-thread.ts): one onnxruntime session on its own thread.
// Plain JavaScript so the thread starts without the TypeScript loader of its parent.
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';

const { model, sessionOptions } = workerData;
let session;
try {
  session = await ort.InferenceSession.create(model, sessionOptions);
  parentPort.postMessage({ kind: 'ready', inputMetadata: session.inputMetadata, outputMetadata: session.outputMetadata });
} catch (error) {
  parentPort.postMessage({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
}

parentPort.on('message', async (message) => {
  if (message.kind === 'release') {
    await session?.release();
    parentPort.postMessage({ kind: 'released' });
    return;
  }
  const { id, feeds, outputNames } = message;
  try {
    const inputs = {};
    for (const [name, t] of Object.entries(feeds)) inputs[name] = new ort.Tensor(t.type, t.data, t.dims);
    const results = await session.run(inputs, outputNames);
    const outputs = {};
    for (const [name, t] of Object.entries(results)) outputs[name] = { type: t.type, data: t.data, dims: t.dims };
    parentPort.postMessage({ kind: 'result', id, outputs });
  } catch (error) {
    parentPort.postMessage({ kind: 'result', id, error: error instanceof Error ? error.message : String(error) });
  }
});
