/** A min-heap of timed events; ties run in insertion order. */
export class EventQueue<E> {
  private readonly times: number[] = [];
  private readonly seqs: number[] = [];
  private readonly events: E[] = [];
  private seq = 0;

  get size(): number {
    return this.events.length;
  }

  push(at: number, event: E): void {
    let i = this.events.length;
    this.times.push(at);
    this.seqs.push(this.seq++);
    this.events.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Time of the next event, or Infinity when empty. */
  peekTime(): number {
    return this.events.length > 0 ? this.times[0]! : Infinity;
  }

  pop(): E | undefined {
    const n = this.events.length;
    if (n === 0) return undefined;
    const top = this.events[0]!;
    this.swap(0, n - 1);
    this.times.pop();
    this.seqs.pop();
    this.events.pop();
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n - 1) break;
      const right = left + 1;
      const child = right < n - 1 && this.before(right, left) ? right : left;
      if (!this.before(child, i)) break;
      this.swap(i, child);
      i = child;
    }
    return top;
  }

  private before(a: number, b: number): boolean {
    return this.times[a]! < this.times[b]! || (this.times[a] === this.times[b] && this.seqs[a]! < this.seqs[b]!);
  }

  private swap(a: number, b: number): void {
    const time = this.times[a]!;
    this.times[a] = this.times[b]!;
    this.times[b] = time;
    const seq = this.seqs[a]!;
    this.seqs[a] = this.seqs[b]!;
    this.seqs[b] = seq;
    const event = this.events[a]!;
    this.events[a] = this.events[b]!;
    this.events[b] = event;
  }
}
