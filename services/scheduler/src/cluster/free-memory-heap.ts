/**
 * Worker indices ordered by free memory, most first, ties by lower index (the order a stable sort
 * of the worker list would give). Positions are tracked so a worker's key can change in O(log n).
 * A heap may hold only some of the workers (`members`); update() ignores the others.
 */
export class FreeMemoryHeap {
  private readonly heap: number[];
  private readonly position: Int32Array;

  constructor(
    private readonly free: Float64Array,
    members?: readonly number[],
  ) {
    this.heap = members ? [...members] : Array.from({ length: free.length }, (_, i) => i);
    this.position = new Int32Array(free.length).fill(-1);
    this.heap.forEach((worker, at) => (this.position[worker] = at));
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /** The worker with the most free memory for which `skip` is false, if any. */
  best(skip: (worker: number) => boolean): number | undefined {
    const skipped: number[] = [];
    let found: number | undefined;
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      if (!skip(top)) {
        found = top;
        break;
      }
      skipped.push(this.pop());
    }
    for (const worker of skipped) this.push(worker);
    return found;
  }

  /** Call after free[worker] changed. */
  update(worker: number): void {
    const at = this.position[worker]!;
    if (at < 0) return;
    this.up(at);
    this.down(this.position[worker]!);
  }

  private before(a: number, b: number): boolean {
    const fa = this.free[a]!;
    const fb = this.free[b]!;
    return fa > fb || (fa === fb && a < b);
  }

  private pop(): number {
    const top = this.heap[0]!;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.position[last] = 0;
      this.down(0);
    }
    this.position[top] = -1;
    return top;
  }

  private push(worker: number): void {
    this.heap.push(worker);
    this.position[worker] = this.heap.length - 1;
    this.up(this.heap.length - 1);
  }

  private up(at: number): void {
    const worker = this.heap[at]!;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      const above = this.heap[parent]!;
      if (!this.before(worker, above)) break;
      this.heap[at] = above;
      this.position[above] = at;
      at = parent;
    }
    this.heap[at] = worker;
    this.position[worker] = at;
  }

  private down(at: number): void {
    const n = this.heap.length;
    const worker = this.heap[at]!;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.before(this.heap[right]!, this.heap[left]!) ? right : left;
      if (!this.before(this.heap[child]!, worker)) break;
      this.heap[at] = this.heap[child]!;
      this.position[this.heap[at]!] = at;
      at = child;
    }
    this.heap[at] = worker;
    this.position[worker] = at;
  }
}
