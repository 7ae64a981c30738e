import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToIo, setTimeout as sleep } from 'node:timers/promises';
import type { ModelHost } from '../model-host.js';

/** How often a waiting batch looks again at the online load. */
const POLL_MS = 2;
/** Online traffic seen this recently still counts as present. */
const RECENT_ONLINE_MS = 1000;

export interface OnlineGateOptions {
  /** Batch slices wait while more online requests than this are in flight on this worker. */
  threshold: number;
  /**
   * While online traffic is about, each batch slice of d ms is followed by a pause of
   * yieldFactor x d, so batch work takes at most 1 / (1 + yieldFactor) of the time (and of the
   * cores other processes on the host share); with no online traffic it runs back to back.
   */
  yieldFactor: number;
}

/**
 * Online traffic first. Online requests are the host's leases minus those batch runs hold; batch
 * slices wait for them to drop to the threshold, and back off while online traffic is recent.
 */
export class OnlineGate {
  /** Leases held by batch runs right now. */
  private batchLeases = 0;
  private onlineSeenAt = Number.NEGATIVE_INFINITY;
  private backoffMs = 0;

  constructor(
    private readonly host: ModelHost,
    private readonly options: OnlineGateOptions,
  ) {}

  onlineInFlight(): number {
    let leases = 0;
    for (const model of this.host.servedModels()) for (const version of model.versions.values()) leases += version.inFlight;
    return leases - this.batchLeases;
  }

  private online(): number {
    const count = this.onlineInFlight();
    if (count > 0) this.onlineSeenAt = performance.now();
    return count;
  }

  /**
   * Resolves when the next batch slice may run. It first yields to pending I/O, so online
   * requests that have arrived are taken (and counted) before the decision; then keeps the
   * backoff; then waits while the online load is over the threshold, until `signal` aborts.
   */
  async admit(signal: AbortSignal): Promise<void> {
    await yieldToIo();
    if (this.backoffMs > 0) await sleep(this.backoffMs);
    while (this.online() > this.options.threshold) {
      signal.throwIfAborted();
      await sleep(POLL_MS);
    }
  }

  /** Notes a batch slice that took `elapsedMs`, to size the backoff before the next one. */
  ran(elapsedMs: number): void {
    this.online();
    this.backoffMs = performance.now() - this.onlineSeenAt < RECENT_ONLINE_MS ? this.options.yieldFactor * elapsedMs : 0;
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
