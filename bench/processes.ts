// Child processes of the benchmark: every one is tracked from the moment it is spawned, so an
// error, SIGINT or SIGTERM in the orchestrator never leaves a server or generator behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const live = new Set<ChildProcess>();
/** Set once a signal asked the run to end: no new children after that. */
let stopping = false;
/** The tail of each child's stderr, for error messages. */
const logs = new WeakMap<ChildProcess, () => string>();

/** Spawns `node <args>` in the repository root and tracks it until it exits. */
export function spawnNode(args: string[], label: string): ChildProcess {
  if (stopping) throw new Error(`not starting ${label}: the run is stopping`);
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  // Keep the last part of stderr for error messages; never let a full pipe block the child.
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  logs.set(child, () => `${label}: ${stderr.trim()}`);
  return child;
}

export function logOf(child: ChildProcess): string {
  return logs.get(child)?.() ?? '';
}

/** Spawns a TypeScript entry point of bench/ through tsx. */
export function spawnTs(script: string, args: string[], label: string): ChildProcess {
  return spawnNode(['--import', 'tsx', script, ...args], label);
}

/** Calls `onLine` for each stdout line that is a JSON object. */
function onJsonLines(child: ChildProcess, onLine: (value: Record<string, unknown>) => void): void {
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    try {
      onLine(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // Not ours (a log line that happens to start with "{"); ignore.
    }
  });
}

/** Resolves with the child's first `{"event":"ready",...}` line; kills it on exit or timeout. */
export function waitReady(child: ChildProcess, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not ready within ${timeoutMs} ms\n${logOf(child)}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before it was ready\n${logOf(child)}`));
    });
    onJsonLines(child, (event) => {
      if (event.event !== 'ready') return;
      clearTimeout(timer);
      resolve(event);
    });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((child) => stopChild(child)));
}

/** On SIGINT/SIGTERM stop every child and exit; on any exit SIGKILL what is still running and run `onExit` (synchronous). */
export function installCleanup(onExit: () => void = () => {}): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopping = true;
      console.error(`\n${signal}: stopping ${live.size} child process(es)`);
      void stopAll().finally(() => process.exit(130));
    });
  }
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
    onExit();
  });
}

/**
 * A long-lived child answering one JSON line on stdout per JSON line written to its stdin, in
 * order (the load generator's stream mode).
 */
export class JsonLineChild<Request, Response> {
  private readonly waiting: Array<{ resolve: (value: Response) => void; reject: (error: Error) => void }> = [];

  constructor(private readonly child: ChildProcess) {
    onJsonLines(child, (value) => this.waiting.shift()?.resolve(value as Response));
    child.once('exit', (code) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`child exited with ${code}\n${logOf(child)}`));
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** False once the child has exited (e.g. killed after a timeout); start a new one then. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends one request; rejects (and kills the child) if no answer comes within `timeoutMs`. */
  request(message: Request, timeoutMs: number): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`no answer within ${timeoutMs} ms\n${logOf(this.child)}`));
      }, timeoutMs);
      const settle = { resolve: (v: Response) => (clearTimeout(timer), resolve(v)), reject: (e: Error) => (clearTimeout(timer), reject(e)) };
      this.waiting.push(settle);
      this.child.stdin!.write(`${JSON.stringify(message)}\n`);
    });
  }

  async close(): Promise<void> {
    this.child.stdin!.end();
    await stopChild(this.child);
  }
}

/** Runs a child to completion and returns its last JSON line; SIGKILL after `timeoutMs`. */
export async function runJsonChild<T>(child: ChildProcess, timeoutMs: number): Promise<T> {
  let last: T | undefined;
  onJsonLines(child, (value) => (last = value as T));
  child.stdin!.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  // 'close', not 'exit': stdout is fully read by then.
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  if (code !== 0 || last === undefined) throw new Error(`exited with ${code}\n${logOf(child)}`);
  return last;
}

/**
 * CPU seconds (user + system, all threads) a process has used so far, from /proc/<pid>/stat;
 * clock ticks are taken as 100/s (USER_HZ on Linux).
 */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Resident set size of a process in KiB (VmRSS in /proc/<pid>/status; Linux only). */
export function rssKiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}
