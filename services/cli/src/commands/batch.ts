import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { credentials, Metadata, type CallOptions, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { BatchJob_State, BatchJobsClient, type BatchJob, type ListBatchJobsResponse, type ModelSpec, type SubmitBatchJobRequest } from '@maas/protos';
import { FlagError, flagsHelp, parseFlags, type FlagSpec, type FlagValues } from '../flags.js';

/*
 * `maas batch submit|status|cancel|list`: a client of the scheduler's BatchJobs gRPC service.
 * submit waits for the job by default, with a progress bar on a terminal and plain progress
 * lines otherwise, then prints a summary; it exits 0 only when the job COMPLETED.
 */

const COMMON_FLAGS: Record<string, FlagSpec> = {
  scheduler: { type: 'string', default: '127.0.0.1:8500', help: "the scheduler's gRPC address" },
  token: { type: 'string', help: 'API key or JWT, sent as "authorization: Bearer …" (default: $MAAS_TOKEN)' },
  ssl_ca_file: { type: 'string', help: "PEM file of the CA that signed the scheduler's certificate: talk TLS" },
  ssl_cert_file: { type: 'string', help: 'PEM client certificate, for a scheduler that verifies clients (with --ssl_key_file)' },
  ssl_key_file: { type: 'string', help: 'PEM key of --ssl_cert_file' },
  help: { type: 'bool', default: false, help: 'print this help' },
};

const SUBMIT_FLAGS: Record<string, FlagSpec> = {
  ...COMMON_FLAGS,
  model: { type: 'string', help: 'model name (required)' },
  version: { type: 'int', help: 'model version (default: the latest)' },
  version_label: { type: 'string', help: 'model version label' },
  out: { type: 'string', help: 'results file, JSON Lines, one line per input row (required)' },
  rows_per_chunk: { type: 'int', default: 0, help: 'rows per unit of work (0: the scheduler default, 500)' },
  priority: { type: 'int', default: 0, help: '0..1000; chunks of higher-priority jobs are taken first' },
  max_failed_rows: { type: 'int', help: 'failure budget: the job FAILS once more rows failed (default: 10 % of the rows)' },
  wait: { type: 'bool', default: true, help: 'show progress until the job ends (--wait=false returns after queueing)' },
};

const LIST_FLAGS: Record<string, FlagSpec> = { ...COMMON_FLAGS, limit: { type: 'int', default: 20, help: 'jobs to show, newest first' } };

const USAGE = `usage: maas batch <command> [flags]
  submit INPUT --model NAME --out OUTPUT   run a JSON Lines file (one TF Serving instance per line) through a model
  status ID                                a job's state and progress
  cancel ID                                stop a job; rows already processed go to OUTPUT.partial
  list                                     recent jobs`;

const POLL_MS = 500;
/** Without a terminal, a progress line at most this often. */
const PLAIN_EVERY_MS = 5000;
const BAR_WIDTH = 24;
const SUBMIT_DEADLINE_MS = 10 * 60_000;
const CALL_DEADLINE_MS = 30_000;

/** Positional arguments apart from flags (a flag's value, given as the next argument, stays with it). */
function splitArguments(argv: readonly string[], specs: Record<string, FlagSpec>): { positional: string[]; flags: string[] } {
  const positional: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-')) {
      positional.push(arg);
      continue;
    }
    flags.push(arg);
    const name = /^--?([A-Za-z0-9_]+)$/.exec(arg)?.[1];
    const spec = name ? specs[name] : undefined;
    const next = argv[i + 1];
    if (spec && next !== undefined && (spec.type !== 'bool' || /^(true|false|1|0)$/.test(next))) flags.push(argv[++i]!);
  }
  return { positional, flags };
}

function parse(argv: readonly string[], specs: Record<string, FlagSpec>, positionals: number): { args: string[]; flags: FlagValues } {
  const { positional, flags } = splitArguments(argv, specs);
  const values = parseFlags(flags, specs);
  if (!values.help && positional.length !== positionals) throw new FlagError(`expected ${positionals} argument(s), got ${positional.length}\n${USAGE}`);
  return { args: positional, flags: values };
}

type Invoke<Res> = (metadata: Metadata, options: Partial<CallOptions>, callback: (error: ServiceError | null, response: Res) => void) => unknown;

/** The scheduler's BatchJobs client and one unary call with a deadline and the caller's credentials. */
interface Connection {
  client: BatchJobsClient;
  /** A failure carries the server's message. */
  rpc<Res>(invoke: Invoke<Res>, deadlineMs?: number): Promise<Res>;
}

function channelCredentials(flags: FlagValues): ChannelCredentials {
  const [ca, cert, key] = [flags.ssl_ca_file, flags.ssl_cert_file, flags.ssl_key_file] as (string | undefined)[];
  if ((cert === undefined) !== (key === undefined)) throw new FlagError('give --ssl_cert_file and --ssl_key_file together');
  if (ca === undefined && cert === undefined) return credentials.createInsecure();
  const read = (path: string | undefined) => (path === undefined ? null : readFileSync(path));
  return credentials.createSsl(read(ca), read(key), read(cert));
}

function connect(flags: FlagValues): Connection {
  const client = new BatchJobsClient(flags.scheduler as string, channelCredentials(flags));
  const token = (flags.token as string | undefined) ?? process.env.MAAS_TOKEN;
  return {
    client,
    rpc: (invoke, deadlineMs = CALL_DEADLINE_MS) =>
      new Promise((resolvePromise, reject) => {
        const metadata = new Metadata();
        if (token) metadata.set('authorization', `Bearer ${token}`);
        invoke(metadata, { deadline: Date.now() + deadlineMs }, (error, response) => (error ? reject(new Error(error.details || error.message)) : resolvePromise(response)));
      }),
  };
}

const count = (n: bigint | number) => Number(n).toLocaleString('en-US');
const stateName = (job: BatchJob) => BatchJob_State[job.state];
const isEnded = (job: BatchJob) => [BatchJob_State.COMPLETED, BatchJob_State.FAILED, BatchJob_State.CANCELLED].includes(job.state);

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${Math.round(seconds % 60)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

function progressText(job: BatchJob): string {
  const total = Number(job.totalRows);
  const done = Number(job.rowsDone);
  const parts = [`${count(done)}/${count(total)} rows`];
  if (job.rowsFailed > 0n) parts.push(`${count(job.rowsFailed)} failed`);
  if (job.rowsPerSecond > 0) parts.push(`${count(Math.round(job.rowsPerSecond))} rows/s`);
  if (job.etaSeconds > 0) parts.push(`ETA ${duration(job.etaSeconds)}`);
  if (job.state !== BatchJob_State.RUNNING) parts.push(stateName(job)!);
  return parts.join('  ');
}

function bar(job: BatchJob): string {
  const fraction = job.totalRows > 0n ? Number(job.rowsDone) / Number(job.totalRows) : 0;
  const filled = Math.round(fraction * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%`;
}

/** Progress on stderr: one redrawn line on a terminal, a plain line every few seconds otherwise. */
class ProgressView {
  private lastPlain = 0;
  private lastState = -1;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(job: BatchJob): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r${bar(job)}  ${progressText(job)}\x1b[K`);
      return;
    }
    const now = Date.now();
    if (job.state === this.lastState && now - this.lastPlain < PLAIN_EVERY_MS) return;
    this.lastPlain = now;
    this.lastState = job.state;
    this.stream.write(`${job.id}: ${progressText(job)}\n`);
  }

  end(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }
}

function summary(job: BatchJob): string {
  const seconds = Number(job.finishedAtMs - (job.startedAtMs || job.createdAtMs)) / 1000;
  const rate = seconds > 0 ? ` (${count(Math.round(Number(job.rowsDone) / seconds))} rows/s)` : '';
  const lines = [`job ${job.id} ${stateName(job)}: ${count(job.rowsDone)} of ${count(job.totalRows)} rows in ${duration(seconds)}${rate}, ${count(job.rowsFailed)} failed`];
  if (job.state !== BatchJob_State.COMPLETED && job.error) lines.push(`reason: ${job.error}`);
  else if (job.rowsFailed > 0n && job.error) lines.push(`first error: ${job.error}`);
  if (job.resultsPath) lines.push(`${job.state === BatchJob_State.COMPLETED ? 'results' : 'partial results'}: ${job.resultsPath}`);
  return lines.join('\n');
}

function describe(job: BatchJob): string {
  const spec = job.modelSpec;
  const version = spec?.version !== undefined ? ` version ${spec.version}` : spec?.versionLabel ? ` label ${spec.versionLabel}` : '';
  return [
    `job ${job.id}: ${stateName(job)}`,
    `  model:    ${spec?.name ?? ''}${version}`,
    `  input:    ${job.inputPath || '(inline instances)'}`,
    `  output:   ${job.outputPath}`,
    `  progress: ${bar(job)}  ${progressText(job)}`,
    ...(job.resultsPath ? [`  results:  ${job.resultsPath}`] : []),
    ...(job.error ? [`  error:    ${job.error}`] : []),
  ].join('\n');
}

/** Polls the job until it ends; Ctrl-C stops watching (the job goes on). */
async function follow({ client, rpc }: Connection, id: string): Promise<BatchJob> {
  const view = new ProgressView(process.stderr);
  const detach = () => {
    view.end();
    console.error(`stopped watching; the job goes on: maas batch status ${id} (or cancel ${id})`);
    process.exit(130);
  };
  process.once('SIGINT', detach);
  try {
    for (;;) {
      const job = await rpc<BatchJob>((m, o, cb) => client.get({ id }, m, o, cb));
      view.update(job);
      if (isEnded(job)) {
        view.end();
        return job;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    process.off('SIGINT', detach);
  }
}

function modelSpec(flags: FlagValues): ModelSpec {
  const name = flags.model as string | undefined;
  if (!name) throw new FlagError('--model is required');
  if (flags.version !== undefined && flags.version_label !== undefined) throw new FlagError('give --version or --version_label, not both');
  return {
    name,
    signatureName: '',
    ...(flags.version !== undefined && { version: BigInt(flags.version as number) }),
    ...(flags.version_label !== undefined && { versionLabel: flags.version_label as string }),
  };
}

async function submit(argv: string[]): Promise<void> {
  const { args, flags } = parse(argv, SUBMIT_FLAGS, 1);
  if (flags.help) return console.log(`usage: maas batch submit INPUT --model NAME --out OUTPUT [flags]\n${flagsHelp(SUBMIT_FLAGS)}`);
  if (!flags.out) throw new FlagError('--out is required');
  const connection = connect(flags);
  const { client, rpc } = connection;
  try {
    // Paths go to the scheduler and workers as absolute paths on the storage they share.
    const request: SubmitBatchJobRequest = {
      modelSpec: modelSpec(flags),
      inputPath: resolve(args[0]!),
      instances: [],
      outputPath: resolve(flags.out as string),
      rowsPerChunk: flags.rows_per_chunk as number,
      priority: flags.priority as number,
      ...(flags.max_failed_rows !== undefined && { maxFailedRows: BigInt(flags.max_failed_rows as number) }),
    };
    const job = await rpc<BatchJob>((m, o, cb) => client.submit(request, m, o, cb), SUBMIT_DEADLINE_MS);
    console.error(`job ${job.id}: ${count(job.totalRows)} rows of ${job.modelSpec?.name} in ${job.totalChunks} chunks`);
    if (!flags.wait) return console.log(job.id);
    const ended = await follow(connection, job.id);
    console.log(summary(ended));
    if (ended.state !== BatchJob_State.COMPLETED) process.exitCode = 1;
  } finally {
    client.close();
  }
}

async function status(argv: string[]): Promise<void> {
  const { args, flags } = parse(argv, COMMON_FLAGS, 1);
  if (flags.help) return console.log(`usage: maas batch status ID [flags]\n${flagsHelp(COMMON_FLAGS)}`);
  const { client, rpc } = connect(flags);
  try {
    console.log(describe(await rpc<BatchJob>((m, o, cb) => client.get({ id: args[0]! }, m, o, cb))));
  } finally {
    client.close();
  }
}

async function cancel(argv: string[]): Promise<void> {
  const { args, flags } = parse(argv, COMMON_FLAGS, 1);
  if (flags.help) return console.log(`usage: maas batch cancel ID [flags]\n${flagsHelp(COMMON_FLAGS)}`);
  const { client, rpc } = connect(flags);
  try {
    const job = await rpc<BatchJob>((m, o, cb) => client.cancel({ id: args[0]! }, m, o, cb));
    console.log(`job ${job.id}: ${stateName(job)}${isEnded(job) ? '' : ' (chunks in work finish, then the partial results are written)'}`);
  } finally {
    client.close();
  }
}

async function list(argv: string[]): Promise<void> {
  const { flags } = parse(argv, LIST_FLAGS, 0);
  if (flags.help) return console.log(`usage: maas batch list [flags]\n${flagsHelp(LIST_FLAGS)}`);
  const { client, rpc } = connect(flags);
  try {
    const { jobs } = await rpc<ListBatchJobsResponse>((m, o, cb) => client.list({ limit: flags.limit as number }, m, o, cb));
    if (jobs.length === 0) return console.log('no batch jobs');
    console.log(['ID'.padEnd(36), 'STATE'.padEnd(10), 'MODEL'.padEnd(16), 'ROWS'.padStart(21), 'FAILED'.padStart(9), '  CREATED'].join(' '));
    for (const job of jobs) {
      const rows = `${count(job.rowsDone)}/${count(job.totalRows)}`;
      const created = new Date(Number(job.createdAtMs)).toISOString().replace('T', ' ').slice(0, 19);
      console.log([job.id.padEnd(36), stateName(job)!.padEnd(10), (job.modelSpec?.name ?? '').padEnd(16), rows.padStart(21), count(job.rowsFailed).padStart(9), `  ${created}`].join(' '));
    }
  } finally {
    client.close();
  }
}

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<void>> = { submit, status, cancel, list };

export async function batchCommand(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  const command = name ? SUBCOMMANDS[name] : undefined;
  if (!command) {
    if (name === undefined || name === '--help') return console.log(USAGE);
    throw new FlagError(`unknown batch command '${name}'\n${USAGE}`);
  }
  await command(rest);
}
