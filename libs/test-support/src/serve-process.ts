import type { ChildProcess } from 'node:child_process';
import { spawnRole } from '@maas/cli';

export interface ServeProcess {
  child: ChildProcess;
  grpcPort: number;
  restPort?: number;
  metricsPort?: number;
  id?: string;
  /** Everything the server wrote to stderr so far (its log). */
  log(): string;
  /** SIGTERM (or the given signal), then waits for exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `maas <args>` as a child process (free ports are the caller's flags) and resolves once
 * it prints its ready line. Rejects with the server's log if it exits first or is not ready in time.
 */
export async function startMaas(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ServeProcess> {
  let log = '';
  const role = await spawnRole(args, { ...options, onLog: (line) => (log += `${line}\n`) });
  return {
    child: role.child,
    grpcPort: role.ready.grpcPort,
    restPort: role.ready.restPort,
    metricsPort: role.ready.metricsPort,
    id: role.ready.id,
    log: () => log,
    stop: (signal) => role.stop(signal),
  };
}
