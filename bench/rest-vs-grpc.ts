// REST vs gRPC predict latency for one 1×224×224×3 float image through an identity model.
//
//   node --import tsx bench/rest-vs-grpc.ts [--rest=HOST:PORT --grpc=HOST:PORT] [--model=NAME]
//        [--values=pixels|random] [--rounds=7] [--requests=20]
//
// Without --rest/--grpc it starts its own `maas serve` with an identity model of shape
// [-1,224,224,3] float. Requests are sequential (latency, not throughput); REST and gRPC rounds
// alternate so load drift on the machine hits both. Each side's request payload is built once:
// the REST time is a keep-alive node:http request sending the JSON bytes and reading the whole
// JSON reply, the gRPC time is grpc-js encoding the PredictRequest and decoding the
// PredictResponse. (Node's fetch() costs ~15 ms more per call for these sizes on the client side
// alone, so it is not used to time the server.) `pixels` sends whole
// numbers 0..255 (an image as decoded), `random` sends floats in [0,1) (a normalized image),
// which costs more JSON text and number formatting each way.
//
// Wall time on a busy machine swings with the load, so when the bench starts the server itself
// it also reports the server's CPU time per request (Linux /proc), which load hardly moves.
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { credentials } from '@grpc/grpc-js';
import { DataType, PredictionServiceClient, TensorProto, type PredictRequest, type PredictResponse } from '@maas/protos';
import { identityModel, makeTempDir, startMaas, writeModelVersion, type ServeProcess } from '@maas/test-support';
import { median } from './stats.js';

const [HEIGHT, WIDTH, CHANNELS] = [224, 224, 3];
const SHAPE: readonly number[] = [1, HEIGHT, WIDTH, CHANNELS];

const { values: args } = parseArgs({
  options: {
    rest: { type: 'string' },
    grpc: { type: 'string' },
    model: { type: 'string', default: 'image_identity' },
    values: { type: 'string', default: 'pixels' },
    rounds: { type: 'string', default: '7' },
    requests: { type: 'string', default: '20' },
  },
});

function image(kind: string): Float32Array {
  const data = new Float32Array(SHAPE.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = kind === 'random' ? Math.random() : Math.floor(Math.random() * 256);
  return data;
}

/** The image as nested JSON lists, `{"instances": [[[[r,g,b],…],…]]}`. */
function restBody(data: Float32Array): string {
  const rows: string[] = [];
  for (let y = 0; y < HEIGHT; y++) {
    const pixels: string[] = [];
    for (let x = 0; x < WIDTH; x++) {
      const at = (y * WIDTH + x) * CHANNELS;
      pixels.push(`[${Array.from(data.subarray(at, at + CHANNELS), (v) => String(v)).join(',')}]`);
    }
    rows.push(`[${pixels.join(',')}]`);
  }
  return `{"instances":[[${rows.join(',')}]]}`;
}

async function startServer(): Promise<{ rest: string; grpc: string; server?: ServeProcess }> {
  if (args.rest && args.grpc) return { rest: args.rest, grpc: args.grpc };
  const basePath = join(makeTempDir('maas-bench-'), args.model);
  writeModelVersion(basePath, 1, identityModel('float32', ['batch', HEIGHT, WIDTH, CHANNELS]));
  const server = await startMaas([
    'serve', '--port=0', '--grpc_host=127.0.0.1', '--rest_api_port=-1', `--model_name=${args.model}`, `--model_base_path=${basePath}`,
    '--file_system_poll_wait_seconds=0',
  ]);
  return { rest: `127.0.0.1:${server.restPort}`, grpc: `127.0.0.1:${server.grpcPort}`, server };
}

/** CPU milliseconds (user + system) the process has used so far, from /proc; undefined elsewhere. */
function cpuMs(pid: number | undefined): number | undefined {
  const file = `/proc/${pid}/stat`;
  if (pid === undefined || !existsSync(file)) return undefined;
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(file, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
}

async function main(): Promise<void> {
  const rounds = Number(args.rounds);
  const perRound = Number(args.requests);
  const data = image(args.values!);
  const { rest, grpc, server } = await startServer();
  try {
    const client = new PredictionServiceClient(grpc, credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 << 20,
      'grpc.max_send_message_length': 64 << 20,
    });
    const request: PredictRequest = {
      modelSpec: { name: args.model!, signatureName: '' },
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
    const body = Buffer.from(restBody(data));
    const [restHost, restPort] = rest.split(':');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });

    const grpcOnce = () =>
      new Promise<PredictResponse>((resolve, reject) => client.predict(request, (error, response) => (error ? reject(error) : resolve(response))));
    const restOnce = () =>
      new Promise<string>((resolve, reject) => {
        const call = httpRequest(
          {
            host: restHost,
            port: Number(restPort),
            method: 'POST',
            path: `/v1/models/${args.model}:predict`,
            agent,
            headers: { 'Content-Type': 'application/json', 'Content-Length': body.length },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('error', reject);
            response.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              if (response.statusCode === 200) resolve(text);
              else reject(new Error(`REST ${response.statusCode}: ${text.slice(0, 300)}`));
            });
          },
        );
        call.on('error', reject);
        call.end(body);
      });

    // Correctness first: both paths must give the image back (REST as the shortest text of each float).
    const viaGrpc = new Float32Array(Uint8Array.from((await grpcOnce()).outputs.y!.tensorContent).buffer);
    const viaRest = (JSON.parse(await restOnce()) as { predictions: number[][][][] }).predictions.flat(3);
    if (viaGrpc.length !== data.length || viaRest.length !== data.length || viaRest.some((v, i) => Math.fround(v) !== data[i] || viaGrpc[i] !== data[i])) {
      throw new Error('a path did not return the image unchanged');
    }
    const reply = await restOnce();
    console.log(`payload (${args.values}): REST request ${(body.length / 1e6).toFixed(2)} MB, REST reply ${(reply.length / 1e6).toFixed(2)} MB, gRPC tensor ${(data.byteLength / 1e6).toFixed(2)} MB each way`);

    const pid = server?.child.pid;
    const cpu = { rest: 0, grpc: 0 };
    const time = async (call: () => Promise<unknown>, side: 'rest' | 'grpc') => {
      const samples: number[] = [];
      const cpuBefore = cpuMs(pid);
      for (let i = 0; i < perRound; i++) {
        const start = performance.now();
        await call();
        samples.push(performance.now() - start);
      }
      const cpuAfter = cpuMs(pid);
      if (cpuBefore !== undefined && cpuAfter !== undefined) cpu[side] += cpuAfter - cpuBefore;
      return median(samples);
    };
    for (let i = 0; i < 5; i++) await Promise.all([grpcOnce(), restOnce()]); // warm-up
    const restMedians: number[] = [];
    const grpcMedians: number[] = [];
    for (let round = 0; round < rounds; round++) {
      grpcMedians.push(await time(grpcOnce, 'grpc'));
      restMedians.push(await time(restOnce, 'rest'));
      console.log(`round ${round + 1}: gRPC ${grpcMedians.at(-1)!.toFixed(2)} ms, REST ${restMedians.at(-1)!.toFixed(2)} ms`);
    }
    const g = median(grpcMedians);
    const r = median(restMedians);
    console.log(`median of ${rounds} round medians (${perRound} sequential requests each): gRPC ${g.toFixed(2)} ms, REST ${r.toFixed(2)} ms, REST/gRPC ${(r / g).toFixed(2)}x`);
    if (cpuMs(pid) !== undefined) {
      const requests = rounds * perRound;
      const [restCpu, grpcCpu] = [cpu.rest / requests, cpu.grpc / requests];
      console.log(`server CPU per request: gRPC ${grpcCpu.toFixed(2)} ms, REST ${restCpu.toFixed(2)} ms, REST/gRPC ${(restCpu / grpcCpu).toFixed(2)}x`);
    }
    client.close();
    agent.destroy();
  } finally {
    await server?.stop();
  }
}

await main();
