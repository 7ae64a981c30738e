/**
 * Answers remembered for a short while, by key; only successes are kept, and concurrent askers of
 * one key share one load. For values that rarely change and cost a network hop to ask again.
 */
export class ShortLivedCache<T> {
  private readonly entries = new Map<string, { expiresAt: number; value: Promise<T> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const now = this.now();
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > now) return entry.value;
    const value = load();
    this.entries.set(key, { expiresAt: now + this.ttlMs, value });
    // A failure is not remembered: the next asker tries again.
    value.catch(() => this.entries.get(key)?.value === value && this.entries.delete(key));
    this.dropExpired(now);
    return value;
  }

  /** Keeps the map to the keys asked for within the last TTL. */
  private dropExpired(now: number): void {
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
