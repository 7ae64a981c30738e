import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const MAAS_BIN = fileURLToPath(new URL('../../../bin/maas.js', import.meta.url));

/** The JSON line a role prints on stdout once it listens (see announceReady). */
export interface ReadyEvent {
  event: 'ready';
  role?: string;
  id?: string;
  grpcPort: number;
  restPort?: number;
  /** Where GET /metrics answers, when it is on. */
  metricsPort?: number;
}

/** What `maas up` announces once its cluster serves (the scheduler's ports are the cluster's). */
export interface UpReadyEvent extends ReadyEvent {
  role: 'up';
  registryPort: number;
  registryMetricsPort?: number;
  redis: string;
  workers: Array<{ id: string; pid: number; grpcPort: number; metricsPort?: number }>;
}

export interface RoleProcess<Ready extends ReadyEvent = ReadyEvent> {
  child: ChildProcess;
  ready: Ready;
  /** SIGTERM, then waits for exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `maas <args>` as a child process and resolves once it announces it is ready. Its stderr
 * (the log) goes to `onLog`; rejects with the log so far if it exits first or times out.
 */
export async function spawnRole<Ready extends ReadyEvent = ReadyEvent>(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; onLog?: (line: string) => void } = {},
): Promise<RoleProcess<Ready>> {
  const child = spawn(process.execPath, [MAAS_BIN, ...args], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  createInterface({ input: child.stderr! }).on('line', (line) => {
    log += `${line}\n`;
    options.onLog?.(line);
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`maas ${args[0]} was not ready within ${timeoutMs} ms:\n${log}`)), timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const event = JSON.parse(line) as Ready;
      if (event.event === 'ready') {
        clearTimeout(timer);
        resolve(event);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      // Give the log a moment to drain before reporting it.
      setImmediate(() => reject(new Error(`maas ${args[0]} exited with ${code} before it was ready:\n${log}`)));
    });
  }).catch((error: Error) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    child,
    ready,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}
