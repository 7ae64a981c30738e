import { JsonLineChild, spawnTs } from '../processes.js';
import type { LoadJob, LoadResult } from './protocol.js';

/**
 * The orchestrator's handle on the load-generator child: one long-lived process for all jobs
 * (tsx start-up is paid once), started again if a job timed out and the old one was killed.
 */
export class LoadGeneratorClient {
  private child: JsonLineChild<LoadJob, LoadResult> | undefined;

  /** Starts the child if none is running; returns its pid (for CPU accounting). */
  start(): number {
    if (!this.child?.alive) this.child = new JsonLineChild(spawnTs('bench/load-generator.ts', [], 'load generator'));
    return this.child.pid;
  }

  run(job: LoadJob, timeoutMs: number): Promise<LoadResult> {
    this.start();
    return this.child!.request(job, timeoutMs);
  }

  async close(): Promise<void> {
    await this.child?.close();
  }
}
