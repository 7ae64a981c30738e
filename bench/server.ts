// `maas serve` as a child process for the benchmark, with or without dynamic batching.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logOf, spawnNode, stopChild, waitReady } from './processes.js';

const MAAS = 'bin/maas.js';

/** TF Serving's BatchingParameters, the fields the benchmark sets. */
export interface BatchingSettings {
  maxBatchSize: number;
  batchTimeoutMicros: number;
  maxEnqueuedBatches: number;
  /** Undefined: the server's default (one batch at a time per session instance). */
  numBatchThreads?: number;
}

/** The text format `--batching_parameters_file` takes (TF's BatchingParameters with wrapper values). */
export function batchingParametersText(s: BatchingSettings): string {
  return [
    `max_batch_size { value: ${s.maxBatchSize} }`,
    `batch_timeout_micros { value: ${s.batchTimeoutMicros} }`,
    `max_enqueued_batches { value: ${s.maxEnqueuedBatches} }`,
    ...(s.numBatchThreads === undefined ? [] : [`num_batch_threads { value: ${s.numBatchThreads} }`]),
    '',
  ].join('\n');
}

/** The flag names `maas serve --help` lists; empty with a note when the command does not even start. */
export async function serveFlags(timeoutMs = 30_000): Promise<{ flags: Set<string>; note?: string }> {
  const child = spawnNode([MAAS, 'serve', '--help'], 'maas serve --help');
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  const flags = new Set([...stdout.matchAll(/^\s+--([a-z0-9_]+)/gm)].map((m) => m[1]!));
  if (code === 0 && flags.size > 0) return { flags };
  const firstError = logOf(child).split('\n').find((line) => /Error/.test(line)) ?? `exit code ${code}`;
  return { flags, note: `maas serve --help failed: ${firstError.trim()}` };
}

export interface RunningServer {
  pid: number;
  grpcAddress: string;
  restPort?: number;
  log(): string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  configFile: string;
  /** Flags the server knows (from serveFlags), so optional ones are passed only when supported. */
  knownFlags: Set<string>;
  batching?: BatchingSettings;
  /** Where the batching parameters file goes. */
  workDir: string;
  /** Body limit for the payload sweep's large JSON bodies. */
  maxRestBodyBytes: number;
}

/**
 * Starts `maas serve` on free loopback ports with every benchmark model. Not test-support's
 * startMaas: that one hands the child over only once it is ready, and the benchmark must be able
 * to kill it on SIGINT during start-up too.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const args = [
    MAAS,
    'serve',
    '--port=0',
    '--rest_api_port=-1',
    '--grpc_host=127.0.0.1',
    `--model_config_file=${options.configFile}`,
    '--file_system_poll_wait_seconds=0',
  ];
  if (options.knownFlags.has('rest_api_max_body_bytes')) args.push(`--rest_api_max_body_bytes=${options.maxRestBodyBytes}`);
  // A free metrics port each: with the fixed default only the first server would get /metrics,
  // and the servers being compared would not run the same code.
  if (options.knownFlags.has('metrics_port')) args.push('--metrics_port=-1');
  if (options.batching) {
    const file = join(options.workDir, 'batching.config');
    writeFileSync(file, batchingParametersText(options.batching));
    args.push('--enable_batching=true', `--batching_parameters_file=${file}`);
  }
  const child = spawnNode(args, options.batching ? 'maas serve (batching)' : 'maas serve');
  const ready = (await waitReady(child, 60_000)) as { grpcPort: number; restPort?: number };
  return {
    pid: child.pid!,
    grpcAddress: `127.0.0.1:${ready.grpcPort}`,
    ...(ready.restPort ? { restPort: ready.restPort } : {}),
    log: () => logOf(child),
    stop: () => stopChild(child, 10_000),
  };
}

/** The transport-limit echo server (bench/echo-server.ts) as a child. */
export async function startEchoServer(): Promise<RunningServer> {
  const child = spawnNode(['--import', 'tsx', 'bench/echo-server.ts'], 'echo server');
  const ready = (await waitReady(child, 30_000)) as { port: number };
  return { pid: child.pid!, grpcAddress: `127.0.0.1:${ready.port}`, log: () => logOf(child), stop: () => stopChild(child) };
}
