import { setImmediate as yieldToIo, setTimeout as sleep } from 'node:timers/promises';
import type { ModelHost } from '../model-host.js';

/** How often a waiting batch looks again at the online load. */
const POLL_MS = 2;

/**
 * Online traffic first: batch rows run only while at most `threshold` online requests are in
 * flight on this worker. Online requests are the host's leases minus those batch runs hold.
 */
export class OnlineGate {
  /** Leases held by batch runs right now. */
  private batchLeases = 0;

  constructor(
    private readonly host: ModelHost,
    private readonly threshold: number,
  ) {}

  onlineInFlight(): number {
    let leases = 0;
    for (const model of this.host.servedModels()) for (const version of model.versions.values()) leases += version.inFlight;
    return leases - this.batchLeases;
  }

  /**
   * Resolves when batch work may run. It first yields to pending I/O, so online requests that
   * have arrived are taken (and counted) before the decision; then waits while the online load
   * is over the threshold, until `signal` aborts.
   */
  async admit(signal: AbortSignal): Promise<void> {
    await yieldToIo();
    while (this.onlineInFlight() > this.threshold) {
      signal.throwIfAborted();
      await sleep(POLL_MS);
    }
  }

  /** Counts a lease taken for batch rows; call the returned function when it is released. */
  holdLease(): () => void {
    this.batchLeases++;
    let held = true;
    return () => {
      if (held) this.batchLeases--;
      held = false;
    };
  }
}
