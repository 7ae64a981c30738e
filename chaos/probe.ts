import type { ChaosCluster } from './cluster.js';

/**
 * Probes the front door every 100 ms for the whole run and keeps the windows in which no probe
 * succeeded, so each fault's outage is measured from the moment it began, not from when its
 * injection (a restart, a pause) returned.
 */
export class ProbeMonitor {
  private readonly outages: Array<{ from: number; to: number }> = [];
  private failingSince?: number;
  private stopped = false;
  private running?: Promise<void>;

  constructor(private readonly cluster: ChaosCluster) {}

  start(): void {
    this.running = (async () => {
      while (!this.stopped) {
        const at = Date.now();
        const ok = await this.cluster.probe();
        if (!ok) this.failingSince ??= at;
        else if (this.failingSince !== undefined) {
          this.outages.push({ from: this.failingSince, to: Date.now() });
          this.failingSince = undefined;
        }
        await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - at))));
      }
    })();
  }

  /** The longest window without a successful probe that overlaps [from, to]; 0 when serving never stopped. */
  longestOutage(from: number, to: number): number {
    const windows = [...this.outages, ...(this.failingSince !== undefined ? [{ from: this.failingSince, to: Date.now() }] : [])];
    return Math.max(0, ...windows.filter((w) => w.to >= from && w.from <= to).map((w) => w.to - w.from));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}
