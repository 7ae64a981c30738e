import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const MAAS_BIN = fileURLToPath(new URL('../../../bin/maas.js', import.meta.url));

export interface ServeProcess {
  child: ChildProcess;
  grpcPort: number;
  restPort?: number;
  /** Everything the server wrote to stderr so far (its log). */
  log(): string;
  /** SIGTERM, then waits for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `maas <args>` as a child process on free ports and resolves once it prints its ready
 * line. Rejects with the server's log if it exits first or is not ready in time.
 */
export async function startMaas(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [MAAS_BIN, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let stdout = '';
  const ready = new Promise<{ grpcPort: number; restPort?: number }>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        const event = JSON.parse(line) as { event?: string; grpcPort?: number; restPort?: number };
        if (event.event === 'ready' && event.grpcPort) resolve({ grpcPort: event.grpcPort, restPort: event.restPort });
      }
    });
    child.once('exit', (code) => reject(new Error(`maas exited with ${code} before it was ready:\n${stderr}`)));
    setTimeout(() => reject(new Error(`maas was not ready within ${options.timeoutMs ?? 30000} ms:\n${stderr}`)), options.timeoutMs ?? 30000).unref();
  });
  try {
    const ports = await ready;
    return {
      child,
      ...ports,
      log: () => stderr,
      async stop() {
        if (child.exitCode !== null) return child.exitCode;
        child.kill('SIGTERM');
        const [code] = (await once(child, 'exit')) as [number | null];
        return code;
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}
