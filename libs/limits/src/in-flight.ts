import { LIMIT_FLAGS, limitExceeded } from './request-limits.js';

/**
 * Requests in flight per client (an authenticated principal, else the peer's address). `admit`
 * refuses with RESOURCE_EXHAUSTED past the limit; otherwise it returns the release to call once
 * the request ends (calling it twice releases once).
 */
export class InFlightPerClient {
  private readonly counts = new Map<string, number>();

  constructor(readonly limit: number) {}

  admit(client: string): () => void {
    const count = this.counts.get(client) ?? 0;
    if (count >= this.limit) {
      throw limitExceeded(`Client ${client} has ${count} requests in flight`, this.limit, LIMIT_FLAGS.maxInFlightPerClient);
    }
    this.counts.set(client, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(client) ?? 1) - 1;
      if (left > 0) this.counts.set(client, left);
      else this.counts.delete(client);
    };
  }

  inFlight(client: string): number {
    return this.counts.get(client) ?? 0;
  }
}

