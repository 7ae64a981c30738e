// What a REST predict of one 1×224×224×3 float image costs next to the same request over gRPC.
//
//   node --import tsx bench/rest-vs-grpc.ts [--values=pixels|normalized|random] [--rounds=7] [--requests=20] [--clients=4] [--warmup=200] [--shared]
//        [--rest=HOST:PORT --grpc=HOST:PORT [--pid=PID]]
//
// Two models, one row each, served by two `maas serve` processes the bench starts, one answering
// REST and one gRPC (--shared: one process answers both):
//   image_classifier  x [-1,224,224,3] float → mean over the pixels → a 3×10 dense layer → softmax
//                     → y [-1,10]: an image in, a few numbers out, as image classifiers are. The
//                     issue's target (REST well under 2× gRPC) is about this row.
//   image_identity    y = x: the image comes back, so the reply is as large as the request (JSON
//                     number writing shows here).
// With --rest/--grpc it uses a running server instead, which must serve both models.
//
// Per row it measures, REST and gRPC alternating within every round so load drift hits both:
//   - server CPU per request: the server process's CPU time (all its threads, from /proc, ns
//     resolution) from the start of a phase to the start of that server's next phase, divided by
//     the phase's requests. This is the cost the issue asks about and the figure the load of other
//     processes on the machine moves least. Counting up to the next phase, across the other
//     protocol's phase, bills each protocol for the work its requests leave behind (garbage
//     collection, started by the memory they allocated, finishing after them); that is why each
//     protocol has a server of its own. With --shared one process serves both, and each phase pays
//     for whatever the other left behind;
//   - p50 latency with one client (sequential requests);
//   - p50 latency and server CPU per request with --clients requests in flight (the load).
// Each figure is the median over rounds of that round's value. Each side's request payload is
// built once: the REST time is a keep-alive node:http request sending the JSON bytes and reading
// the whole JSON reply (not parsing it), the gRPC time is grpc-js encoding the PredictRequest and
// decoding the PredictResponse. (Node's fetch() costs ~15 ms more per call for these sizes on the
// client side alone, so it is not used.) `pixels` sends whole numbers 0..255 (an image as
// decoded, as a float tensor) printed the way Python's json module prints floats, `128.0`;
// `normalized` those pixels as a float32 image normalized with ImageNet's mean and deviation per
// channel (torchvision's Normalize), signed, and `random` floats in [0,1), both printed as a client
// prints float32 data converted to doubles (String of the double: up to 17 digits): five times the
// JSON text, and number formatting each way. Before the rounds, --warmup requests per protocol
// (with --clients in flight) bring both servers to steady state.
import { existsSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { credentials } from '@grpc/grpc-js';
import { DataType, PredictionServiceClient, TensorProto, type PredictRequest, type PredictResponse } from '@maas/protos';
import { buildOnnxModel, identityModel, makeTempDir, startMaas, writeModelVersion, type ServeProcess } from '@maas/test-support';
import { threadCpuMs, totalMs } from './process-cpu.js';
import { median } from './stats.js';

const [HEIGHT, WIDTH, CHANNELS] = [224, 224, 3];
const SHAPE: readonly number[] = [1, HEIGHT, WIDTH, CHANNELS];
const CLASSES = 10;

const { values: args } = parseArgs({
  options: {
    rest: { type: 'string' },
    grpc: { type: 'string' },
    pid: { type: 'string' },
    values: { type: 'string', default: 'pixels' },
    rounds: { type: 'string', default: '7' },
    requests: { type: 'string', default: '20' },
    clients: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '200' },
    shared: { type: 'boolean', default: false },
  },
});

/** The models of the rows, in order: the target first. */
const MODELS = ['image_classifier', 'image_identity'] as const;
type ModelName = (typeof MODELS)[number];

/** image_classifier: softmax(mean over H and W of x · W + b), fixed weights. */
function imageClassifierModel(): Uint8Array {
  const weights = Array.from({ length: CHANNELS * CLASSES }, (_, i) => (((i * 7919) % 101) - 50) / 5000);
  return buildOnnxModel({
    inputs: [{ name: 'x', type: 'float32', shape: ['batch', HEIGHT, WIDTH, CHANNELS] }],
    outputs: [{ name: 'y', type: 'float32', shape: ['batch', CLASSES] }],
    initializers: [
      { name: 'w', type: 'float32', dims: [CHANNELS, CLASSES], values: weights },
      { name: 'b', type: 'float32', dims: [CLASSES], values: Array.from({ length: CLASSES }, (_, i) => i / 100) },
    ],
    nodes: [
      { op: 'ReduceMean', inputs: ['x'], outputs: ['pooled'], attributes: { axes: [1, 2], keepdims: 0 } },
      { op: 'MatMul', inputs: ['pooled', 'w'], outputs: ['logits_mm'] },
      { op: 'Add', inputs: ['logits_mm', 'b'], outputs: ['logits'] },
      { op: 'Softmax', inputs: ['logits'], outputs: ['y'], attributes: { axis: -1 } },
    ],
  });
}

/** ImageNet's per-channel mean and standard deviation, as torchvision's Normalize uses them. */
const [MEAN, STD] = [[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]];

function image(kind: string): Float32Array {
  const data = new Float32Array(SHAPE.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    const pixel = Math.floor(Math.random() * 256);
    const channel = i % CHANNELS;
    if (kind === 'random') data[i] = Math.random();
    else if (kind === 'normalized') data[i] = (pixel / 255 - MEAN[channel]!) / STD[channel]!;
    else data[i] = pixel;
  }
  return data;
}

/** A float as Python's json module prints it (as TF Serving clients in Python send images): whole values keep `.0`. */
const floatText = (v: number) => (Number.isInteger(v) ? `${v}.0` : String(v));

/** The image as nested JSON lists, `{"instances": [[[[r,g,b],…],…]]}`. */
function restBody(data: Float32Array): string {
  const rows: string[] = [];
  for (let y = 0; y < HEIGHT; y++) {
    const pixels: string[] = [];
    for (let x = 0; x < WIDTH; x++) {
      const at = (y * WIDTH + x) * CHANNELS;
      pixels.push(`[${Array.from(data.subarray(at, at + CHANNELS), floatText).join(',')}]`);
    }
    rows.push(`[${pixels.join(',')}]`);
  }
  return `{"instances":[[${rows.join(',')}]]}`;
}

async function startServer(): Promise<{ rest: string; grpc: string; pid?: number; server?: ServeProcess }> {
  if (args.rest && args.grpc) return { rest: args.rest, grpc: args.grpc, pid: args.pid === undefined ? undefined : Number(args.pid) };
  const root = makeTempDir('maas-bench-');
  writeModelVersion(join(root, 'image_classifier'), 1, imageClassifierModel());
  writeModelVersion(join(root, 'image_identity'), 1, identityModel('float32', ['batch', HEIGHT, WIDTH, CHANNELS]));
  const configFile = join(root, 'models.config');
  const entries = MODELS.map((name) => `  config { name: "${name}" base_path: "${join(root, name)}" model_platform: "onnx" }`);
  writeFileSync(configFile, `model_config_list {\n${entries.join('\n')}\n}\n`);
  const server = await startMaas([
    'serve', '--port=0', '--grpc_host=127.0.0.1', '--rest_api_port=-1', `--model_config_file=${configFile}`,
    '--file_system_poll_wait_seconds=0', '--metrics_port=-1',
  ]);
  return { rest: `127.0.0.1:${server.restPort}`, grpc: `127.0.0.1:${server.grpcPort}`, pid: server.child.pid, server };
}

/**
 * CPU milliseconds the process has used so far, over all its threads (process-cpu.ts);
 * undefined off Linux. The server's threads (main, libuv pool, onnxruntime's) live as long as it
 * does, so no thread's time drops out between two readings.
 */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined || !existsSync(`/proc/${pid}/task`)) return undefined;
  return totalMs(threadCpuMs(pid));
}

interface Phase {
  p50: number;
  /** CPU ms per request, set once the window ends (the server's next phase, or the row's end). */
  cpu?: number;
  /** The server's CPU ms at the phase's start, its pid and the phase's requests. */
  cpuStart?: number;
  pid?: number;
  requests: number;
}

interface Row {
  model: ModelName;
  replyBytes: number;
  samples: Record<'rest' | 'grpc', Record<'single' | 'loaded', Phase[]>>;
}

async function main(): Promise<void> {
  const rounds = Number(args.rounds);
  const perPhase = Number(args.requests);
  const clients = Number(args.clients);
  const data = image(args.values!);
  const servers = args.shared || args.rest ? [await startServer()] : [await startServer(), await startServer()];
  const { rest, pid: restPid } = servers[0]!;
  const { grpc, pid: grpcPid } = servers.at(-1)!;
  const client = new PredictionServiceClient(grpc, credentials.createInsecure(), {
    'grpc.max_receive_message_length': 64 << 20,
    'grpc.max_send_message_length': 64 << 20,
  });
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const body = Buffer.from(restBody(data));
  const [restHost, restPort] = rest.split(':');
  try {
    const rows: Row[] = [];
    for (const model of MODELS) {
      const request: PredictRequest = {
        modelSpec: { name: model, signatureName: '' },
        inputs: {
          x: {
            ...TensorProto.create(),
            dtype: DataType.DT_FLOAT,
            tensorShape: { dim: SHAPE.map((size) => ({ size: BigInt(size), name: '' })), unknownRank: false },
            tensorContent: new Uint8Array(data.buffer),
          },
        },
        outputFilter: [],
      };
      const grpcOnce = () =>
        new Promise<PredictResponse>((resolve, reject) => client.predict(request, (error, response) => (error ? reject(error) : resolve(response))));
      const restOnce = () =>
        new Promise<string>((resolve, reject) => {
          const call = httpRequest(
            {
              host: restHost,
              port: Number(restPort),
              method: 'POST',
              path: `/v1/models/${model}:predict`,
              agent,
              headers: { 'Content-Type': 'application/json', 'Content-Length': body.length },
            },
            (response) => {
              const chunks: Buffer[] = [];
              response.on('data', (chunk: Buffer) => chunks.push(chunk));
              response.on('error', reject);
              response.on('end', () => {
                const text = Buffer.concat(chunks).toString('latin1');
                if (response.statusCode === 200) resolve(text);
                else reject(new Error(`REST ${response.statusCode}: ${text.slice(0, 300)}`));
              });
            },
          );
          call.on('error', reject);
          call.end(body);
        });

      // Correctness first: both paths must give the same floats (REST as the shortest text of each float32).
      const viaGrpc = new Float32Array(Uint8Array.from((await grpcOnce()).outputs.y!.tensorContent).buffer);
      const reply = await restOnce();
      const viaRest = (JSON.parse(reply) as { predictions: unknown[] }).predictions.flat(3) as number[];
      const expected = model === 'image_identity' ? data : viaGrpc;
      if (viaGrpc.length !== expected.length || viaRest.length !== expected.length || viaRest.some((v, i) => Math.fround(v) !== expected[i] || viaGrpc[i] !== expected[i])) {
        throw new Error(`${model}: REST and gRPC disagree (or the identity model changed the image)`);
      }
      console.log(`${model} (${args.values}): REST request ${(body.length / 1e6).toFixed(2)} MB, reply ${reply.length} B; gRPC tensor ${(data.byteLength / 1e6).toFixed(2)} MB in, ${viaGrpc.byteLength} B out`);

      /** Per server: its phase whose CPU window is still open (closed by the server's next phase). */
      const open = new Map<number, Phase>();
      const closeWindow = (pid: number | undefined, cpuNow: number | undefined) => {
        const last = pid === undefined ? undefined : open.get(pid);
        if (!last || cpuNow === undefined) return;
        last.cpu = (cpuNow - last.cpuStart!) / last.requests;
        open.delete(pid!);
      };
      /** `perPhase` requests, `inFlight` at a time: p50 latency and server CPU per request. */
      const phase = async (call: () => Promise<unknown>, inFlight: number): Promise<Phase> => {
        const samples: number[] = [];
        let next = 0;
        const pid = call === restOnce ? restPid : grpcPid;
        const cpuBefore = cpuMs(pid);
        closeWindow(pid, cpuBefore);
        await Promise.all(
          Array.from({ length: inFlight }, async () => {
            while (next++ < perPhase) {
              const start = performance.now();
              await call();
              samples.push(performance.now() - start);
            }
          }),
        );
        const result: Phase = { p50: median(samples), cpuStart: cpuBefore, pid, requests: perPhase };
        if (restPid !== grpcPid && pid !== undefined && cpuBefore !== undefined) {
          open.set(pid, result);
        } else {
          // One process serves both: the window ends with the phase.
          const cpuAfter = cpuMs(pid);
          if (cpuBefore !== undefined && cpuAfter !== undefined) result.cpu = (cpuAfter - cpuBefore) / perPhase;
        }
        return result;
      };
      // Warm-up to steady state: until both servers have optimized their code paths (V8 compiles
      // a function after it has run a while), each compilation is billed to whichever phase it
      // falls in, and REST's JSON path has more code to compile than gRPC's.
      for (const call of [grpcOnce, restOnce]) {
        await Promise.all(Array.from({ length: clients }, async () => {
          for (let i = 0; i < Math.ceil(Number(args.warmup) / clients); i++) await call();
        }));
      }
      const row: Row = { model, replyBytes: reply.length, samples: { rest: { single: [], loaded: [] }, grpc: { single: [], loaded: [] } } };
      for (let round = 0; round < rounds; round++) {
        for (const load of ['single', 'loaded'] as const) {
          const inFlight = load === 'single' ? 1 : clients;
          row.samples.grpc[load].push(await phase(grpcOnce, inFlight));
          row.samples.rest[load].push(await phase(restOnce, inFlight));
        }
      }
      // The last windows end after the servers have had a second to finish what the row left.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      for (const pid of [...open.keys()]) closeWindow(pid, cpuMs(pid));
      const s = row.samples;
      const show = (p: Phase) => `${p.p50.toFixed(1)} ms${p.cpu === undefined ? '' : ` (cpu ${p.cpu.toFixed(2)})`}`;
      for (let round = 0; round < rounds; round++) {
        console.log(
          `  round ${round + 1}: 1 client gRPC ${show(s.grpc.single[round]!)}, REST ${show(s.rest.single[round]!)}; ` +
            `${clients} clients gRPC ${show(s.grpc.loaded[round]!)}, REST ${show(s.rest.loaded[round]!)}`,
        );
      }
      rows.push(row);
    }
    report(rows, rounds, perPhase, clients);
  } finally {
    client.close();
    agent.destroy();
    for (const { server } of servers) await server?.stop();
  }
}

function report(rows: readonly Row[], rounds: number, perPhase: number, clients: number): void {
  const med = (phases: Phase[], field: 'p50' | 'cpu') => median(phases.map((p) => p[field] ?? Number.NaN));
  const cell = (grpcValue: number, restValue: number) =>
    Number.isNaN(grpcValue) ? 'n/a' : `${grpcValue.toFixed(2)} / ${restValue.toFixed(2)} = **${(restValue / grpcValue).toFixed(2)}×**`;
  console.log(`\nmedian over ${rounds} rounds of ${perPhase} requests per phase (${args.values}); each cell: gRPC / REST = REST/gRPC`);
  console.log(`| model | reply (REST) | server CPU ms/request, 1 client | p50 ms, 1 client | server CPU ms/request, ${clients} clients | p50 ms, ${clients} clients |`);
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const { model, replyBytes, samples: s } of rows) {
    const reply = replyBytes < 1e4 ? `${replyBytes} B` : `${(replyBytes / 1e6).toFixed(2)} MB`;
    console.log(
      `| ${model} | ${reply} | ${cell(med(s.grpc.single, 'cpu'), med(s.rest.single, 'cpu'))} | ${cell(med(s.grpc.single, 'p50'), med(s.rest.single, 'p50'))} ` +
        `| ${cell(med(s.grpc.loaded, 'cpu'), med(s.rest.loaded, 'cpu'))} | ${cell(med(s.grpc.loaded, 'p50'), med(s.rest.loaded, 'p50'))} |`,
    );
  }
}

await main();
