import { performance } from 'node:perf_hooks';
import {
  DeadlineExceededError,
  InvalidArgumentError,
  ResourceExhaustedError,
  UnavailableError,
  type ServingError,
} from '@maas/errors';
import { validateBatchingOptions, type BatchingOptions } from './options.js';
import { concatRows, requestRows, shapeSignature, splitRows, type RowSlice, type TensorMap } from './tensor-rows.js';

export interface SubmitOptions {
  /** Absolute deadline, epoch milliseconds (e.g. from the gRPC deadline). */
  deadline?: number;
  /** Priority level, 1 (highest) .. priorityLevels; undefined or 0 means the default level. */
  priority?: number;
  /** Longest time the request may wait in the queue before it is taken into a batch (Triton's queue policy timeout); 0: none; default: the options' defaultQueueTimeoutMs. */
  queueTimeoutMs?: number;
  /** Opaque to the batcher; handed back with the batch this request runs in (tracing). */
  tag?: unknown;
}

/** Who shares a batch: its rows before padding, and the tag of each request slice in it. */
export interface BatchMembers {
  rows: number;
  tags: readonly unknown[];
}

export type RunBatch = (inputs: TensorMap, batchSize: number, members: BatchMembers) => Promise<TensorMap>;

interface Task {
  readonly inputs: TensorMap;
  readonly rows: number;
  readonly tag: unknown;
  readonly priority: number;
  readonly group: Group;
  readonly enqueuedAt: number; // epoch ms
  readonly deadline: number | undefined; // epoch ms
  /** Earliest of deadline and queue-timeout expiry, epoch ms (Infinity when neither is set). */
  readonly expiresAt: number;
  readonly queueTimeoutMs: number | undefined;
  /** deadline minus a safety margin (Infinity without a deadline); the latency estimate is subtracted when used. */
  readonly launchBy: number;
  /** Rows already taken into batches. */
  taken: number;
  /** Outputs of the slices executed so far, by slice index (several only when the request was split). */
  readonly parts: (TensorMap | undefined)[];
  partsDone: number;
  settled: boolean;
  readonly resolve: (outputs: TensorMap) => void;
  readonly reject: (error: unknown) => void;
}

/** FIFO with O(1) shift. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    const item = this.items[this.head];
    if (item === undefined) return undefined;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  /** Removes the items for which keep() is false. */
  retain(keep: (item: T) => boolean): void {
    this.items = this.items.slice(this.head).filter(keep);
    this.head = 0;
  }
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T;
  }
}

/** Requests that can share a batch (same input names, dtypes and non-batch dims); one FIFO per priority level. */
interface Group {
  readonly key: string;
  readonly levels: Fifo<Task>[]; // index = priority - 1
  rows: number;
  oldestEnqueuedAt: number;
  /** Earliest deadline-driven launch time of its requests, before subtracting the latency estimate. */
  earliestLaunchBy: number;
}

interface BatchSlice extends RowSlice {
  task: Task;
  part: number;
}

/** Weight of the newest batch latency in the moving average used for deadline decisions. */
const LATENCY_EMA_WEIGHT = 0.2;
/**
 * Slack for a deadline-driven early launch (timer lateness on a busy event loop, concatenation): at
 * least this many ms, or this share of the request's whole budget, on top of 1.5x the latency estimate.
 */
const DEADLINE_MARGIN_MS = 20;
const DEADLINE_MARGIN_SHARE = 0.1;

/**
 * Dynamic batcher for one model version, between "decode request tensors" and "session.run".
 *
 * Requests whose inputs agree in every non-batch dim (per input name and dtype) are queued in one
 * group and concatenated along dim 0; each caller gets its own rows of every output back.
 *
 * When a batch leaves: whenever one of `numBatchThreads` execution slots is free and a group
 *  - has `maxExecutionBatchSize` rows queued (full), or a Triton preferred size,
 *  - or its oldest request has waited `batchTimeoutMicros`,
 *  - or one of its requests must start now to meet its deadline (latency estimated by a moving average),
 *  - or the batcher is closing (drain).
 * While all slots are busy, requests accumulate; that is how batches grow under load. Timeout 0 still
 * coalesces requests that arrive in the same event-loop turn.
 *
 * Higher-priority (lower number) requests are taken first; each level has its own bounded queue of
 * maxEnqueuedBatches * maxBatchSize rows, beyond which submit() rejects at once.
 *
 * Deadlines: a request is rejected (DeadlineExceededError, never run) when its deadline has passed or
 * is closer than the moving-average batch latency, at submit, while queued, and when a batch forms.
 * queueTimeoutMs rejects a request still queued after that long ("timed out in the queue").
 *
 * Outputs: a request that ran alone gets the run's tensors as they are; otherwise numeric outputs are
 * subarray views into the batch's output buffers (treat them as read-only), strings are copied.
 * Split requests (enableLargeBatchSplitting) get their pieces concatenated in row order.
 *
 * Unlike TF Serving, whose batch threads are one pool shared by all models, numBatchThreads bounds this
 * batcher only. No timer stays armed while nothing is queued, nor after close() resolves.
 */
export class DynamicBatcher {
  private readonly options: BatchingOptions;
  private readonly groups = new Map<string, Group>();
  private readonly levelRows: number[];
  private readonly timeoutMs: number;
  private readonly minPreferred: number;
  private inFlight = 0;
  private latencyEmaMs: number | undefined;
  private earliestExpiry = Infinity;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private immediate: NodeJS.Immediate | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;

  constructor(
    readonly name: string,
    options: BatchingOptions,
    private readonly run: RunBatch,
  ) {
    validateBatchingOptions(options);
    this.options = {
      ...options,
      allowedBatchSizes: [...options.allowedBatchSizes],
      preferredBatchSizes: [...options.preferredBatchSizes].sort((a, b) => a - b),
    };
    this.levelRows = new Array<number>(options.priorityLevels).fill(0);
    this.timeoutMs = options.batchTimeoutMicros / 1000;
    this.minPreferred = this.options.preferredBatchSizes[0] ?? Infinity;
  }

  /** Rows waiting in the queue (all levels), not yet taken into a batch. */
  get queuedRows(): number {
    return this.levelRows.reduce((a, b) => a + b, 0);
  }

  /** Batches executing now (<= numBatchThreads). */
  get inFlightBatches(): number {
    return this.inFlight;
  }

  /** Moving average of recent batch run times in ms; undefined before the first batch. */
  get estimatedBatchLatencyMs(): number | undefined {
    return this.latencyEmaMs;
  }

  /** Queues a request; resolves with this request's rows of every output. */
  submit(inputs: TensorMap, options: SubmitOptions = {}): Promise<TensorMap> {
    try {
      return this.enqueue(inputs, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Stops accepting requests (UnavailableError), runs what is queued without waiting for timeouts, and resolves when all work is done. */
  close(): Promise<void> {
    if (this.closed) return this.closed;
    this.closing = true;
    this.closed = new Promise<void>((resolve) => {
      this.resolveClosed = resolve;
    });
    this.dispatch();
    return this.closed;
  }

  private enqueue(inputs: TensorMap, options: SubmitOptions): Promise<TensorMap> {
    const o = this.options;
    if (this.closing) {
      throw new UnavailableError(`The batch scheduler of model ${this.name} is shutting down`);
    }
    const rows = requestRows(inputs);
    if (rows > o.maxBatchSize) {
      throw new InvalidArgumentError(`Task size ${rows} is larger than maximum input batch size ${o.maxBatchSize}`);
    }
    const priority = options.priority === undefined || options.priority === 0 ? o.defaultPriority : options.priority;
    if (!Number.isInteger(priority) || priority < 1 || priority > o.priorityLevels) {
      throw new InvalidArgumentError(
        `Priority ${options.priority} is out of range [1, ${o.priorityLevels}] for model ${this.name}`,
      );
    }
    if (options.deadline !== undefined && !Number.isFinite(options.deadline)) {
      throw new InvalidArgumentError(`Deadline must be a finite epoch time in ms; got ${options.deadline}`);
    }
    if (options.queueTimeoutMs !== undefined && !(options.queueTimeoutMs >= 0 && Number.isFinite(options.queueTimeoutMs))) {
      throw new InvalidArgumentError(`Queue timeout must be a non-negative number of ms; got ${options.queueTimeoutMs}`);
    }
    const now = Date.now();
    if (options.deadline !== undefined) this.checkDeadline(options.deadline, now, 'before it was queued');
    const limit = o.maxEnqueuedBatches * o.maxBatchSize;
    const level = priority - 1;
    if ((this.levelRows[level] as number) + rows > limit) {
      const where = o.priorityLevels > 1 ? `, priority ${priority}` : '';
      const message =
        'The batch scheduling queue to which this task was submitted is full ' +
        `(model ${this.name}${where}, limit ${o.maxEnqueuedBatches} batches of ${o.maxBatchSize})`;
      throw o.overloadStatus === 'RESOURCE_EXHAUSTED' ? new ResourceExhaustedError(message) : new UnavailableError(message);
    }
    // 0 asks for no queue timeout, overriding the default (as Triton's 0 means none).
    const queueTimeoutMs = options.queueTimeoutMs === 0 ? undefined : (options.queueTimeoutMs ?? o.defaultQueueTimeoutMs);
    const expiresAt = Math.min(
      options.deadline ?? Infinity,
      queueTimeoutMs === undefined ? Infinity : now + queueTimeoutMs,
    );
    const key = shapeSignature(inputs, o.padVariableLengthInputs);
    return new Promise<TensorMap>((resolve, reject) => {
      let group = this.groups.get(key);
      if (!group) {
        group = {
          key,
          levels: Array.from({ length: o.priorityLevels }, () => new Fifo<Task>()),
          rows: 0,
          oldestEnqueuedAt: Infinity,
          earliestLaunchBy: Infinity,
        };
        this.groups.set(key, group);
      }
      const task: Task = {
        inputs,
        rows,
        tag: options.tag,
        priority,
        group,
        enqueuedAt: now,
        deadline: options.deadline,
        expiresAt,
        queueTimeoutMs,
        launchBy:
          options.deadline === undefined
            ? Infinity
            : options.deadline - Math.max(DEADLINE_MARGIN_MS, DEADLINE_MARGIN_SHARE * (options.deadline - now)),
        taken: 0,
        parts: [],
        partsDone: 0,
        settled: false,
        resolve,
        reject,
      };
      (group.levels[level] as Fifo<Task>).push(task);
      group.rows += rows;
      group.oldestEnqueuedAt = Math.min(group.oldestEnqueuedAt, now);
      group.earliestLaunchBy = Math.min(group.earliestLaunchBy, task.launchBy);
      this.levelRows[level] = (this.levelRows[level] as number) + rows;
      this.earliestExpiry = Math.min(this.earliestExpiry, expiresAt);
      // Dispatch on the next turn so that requests arriving in the same turn share a batch.
      this.kick();
    });
  }

  /** Rejects when the deadline has passed or would pass before a batch could finish (moving-average latency). */
  private checkDeadline(deadline: number, now: number, when: string): void {
    if (now >= deadline) {
      throw new DeadlineExceededError(`Deadline exceeded ${when} (model ${this.name})`);
    }
    const estimate = this.latencyEmaMs ?? 0;
    if (now + estimate > deadline) {
      throw new DeadlineExceededError(
        `Deadline would be exceeded: a batch of model ${this.name} takes about ${Math.round(estimate)} ms ` +
          `but only ${deadline - now} ms remain`,
      );
    }
  }

  private kick(): void {
    if (this.immediate) return;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.dispatch();
    });
  }

  /** Time by which a group must launch so that its tightest deadline can still be met. */
  private deadlineLaunchAt(group: Group): number {
    if (group.earliestLaunchBy === Infinity) return Infinity;
    return group.earliestLaunchBy - 1.5 * (this.latencyEmaMs ?? 0);
  }

  private groupLaunchAt(group: Group): number {
    if (this.closing || group.rows >= this.options.maxExecutionBatchSize || group.rows >= this.minPreferred) return -Infinity;
    return Math.min(group.oldestEnqueuedAt + this.timeoutMs, this.deadlineLaunchAt(group));
  }

  private dispatch(): void {
    let now = Date.now();
    if (now >= this.earliestExpiry) this.expire(now);
    while (this.inFlight < this.options.numBatchThreads) {
      const group = this.pickReadyGroup(now);
      if (!group) break;
      const slices = this.formBatch(group, now);
      if (slices.length > 0) this.launch(slices);
      else if (this.groups.has(group.key)) break; // cannot happen (formBatch always takes a live head); never spin
      now = Date.now();
    }
    this.schedule(now);
    this.finishCloseIfIdle();
  }

  /** The ready group whose best queued request has the highest priority, then the oldest one. */
  private pickReadyGroup(now: number): Group | undefined {
    let best: Group | undefined;
    let bestLevel = Infinity;
    for (const group of this.groups.values()) {
      if (this.groupLaunchAt(group) > now) continue;
      const level = group.levels.findIndex((q) => q.size > 0);
      if (level < 0) continue;
      if (level < bestLevel || (level === bestLevel && best && group.oldestEnqueuedAt < best.oldestEnqueuedAt)) {
        best = group;
        bestLevel = level;
      }
    }
    return best;
  }

  /**
   * Takes requests from a group, highest priority first and FIFO within a level, until the next one
   * does not fit (no skipping ahead). With large-batch splitting, a request that does not fit
   * contributes the rows that fit and keeps its place at the head for the next batch.
   */
  private formBatch(group: Group, now: number): BatchSlice[] {
    const o = this.options;
    let capacity = o.maxExecutionBatchSize;
    const onlyPreferred =
      !this.closing &&
      group.rows < capacity &&
      group.rows >= this.minPreferred &&
      now < group.oldestEnqueuedAt + this.timeoutMs &&
      now < this.deadlineLaunchAt(group);
    if (onlyPreferred) {
      // Launched only because a preferred size is reached: aim for the largest preferred size queued.
      for (const size of o.preferredBatchSizes) if (size <= group.rows) capacity = size;
    }
    const slices: BatchSlice[] = [];
    let total = 0;
    levels: for (const [level, queue] of group.levels.entries()) {
      for (let task = queue.peek(); task !== undefined; task = queue.peek()) {
        if (task.deadline !== undefined) {
          try {
            this.checkDeadline(task.deadline, now, 'while queued for batching');
          } catch (error) {
            queue.shift();
            this.dequeued(group, level, task.rows - task.taken);
            this.settleWithError(task, error);
            continue;
          }
        }
        const remaining = task.rows - task.taken;
        const room = capacity - total;
        let take: number;
        if (remaining <= room) take = remaining;
        else if (o.enableLargeBatchSplitting && room > 0) take = room;
        else if (total === 0) take = Math.min(remaining, o.maxExecutionBatchSize); // a preferred size smaller than the head request
        else break levels;
        slices.push({ task, part: task.parts.length, inputs: task.inputs, start: task.taken, rows: take });
        task.parts.push(undefined);
        task.taken += take;
        total += take;
        this.dequeued(group, level, take);
        if (task.taken === task.rows) queue.shift();
        if (total >= capacity) break levels;
      }
    }
    this.refreshGroup(group);
    return slices;
  }

  private dequeued(group: Group, level: number, rows: number): void {
    group.rows -= rows;
    this.levelRows[level] = (this.levelRows[level] as number) - rows;
  }

  /** Recomputes a group's oldest arrival and tightest deadline; forgets the group when it is empty. */
  private refreshGroup(group: Group): void {
    let oldest = Infinity;
    let launchBy = Infinity;
    let empty = true;
    for (const queue of group.levels) {
      for (const task of queue) {
        empty = false;
        oldest = Math.min(oldest, task.enqueuedAt);
        launchBy = Math.min(launchBy, task.launchBy);
      }
    }
    group.oldestEnqueuedAt = oldest;
    group.earliestLaunchBy = launchBy;
    if (empty) this.groups.delete(group.key);
  }

  /** Rejects queued requests whose deadline or queue timeout has passed. */
  private expire(now: number): void {
    let earliest = Infinity;
    const expired: Task[] = [];
    for (const group of this.groups.values()) {
      for (const [level, queue] of group.levels.entries()) {
        queue.retain((task) => {
          if (task.expiresAt > now) {
            earliest = Math.min(earliest, task.expiresAt);
            return true;
          }
          this.dequeued(group, level, task.rows - task.taken);
          expired.push(task);
          return false;
        });
      }
      this.refreshGroup(group);
    }
    this.earliestExpiry = earliest;
    for (const task of expired) {
      const waited = now - task.enqueuedAt;
      const timedOutInQueue =
        task.queueTimeoutMs !== undefined && (task.deadline === undefined || task.enqueuedAt + task.queueTimeoutMs <= task.deadline);
      this.settleWithError(
        task,
        new DeadlineExceededError(
          timedOutInQueue
            ? `Request timed out in the queue after ${waited} ms (queue timeout ${task.queueTimeoutMs} ms, model ${this.name})`
            : `Deadline exceeded while queued for batching (model ${this.name}, waited ${waited} ms)`,
        ),
      );
    }
  }

  /** Arms one timer for the next moment something must happen: an expiry, or (with a free slot) a launch. */
  private schedule(now: number): void {
    if (this.groups.size === 0) this.earliestExpiry = Infinity;
    let at = this.earliestExpiry;
    if (this.inFlight < this.options.numBatchThreads) {
      for (const group of this.groups.values()) at = Math.min(at, this.groupLaunchAt(group));
    }
    if (at === this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === Infinity) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.dispatch();
      },
      Math.max(1, Math.ceil(at - now)),
    );
  }

  private paddedSize(rows: number): number {
    for (const size of this.options.allowedBatchSizes) if (size >= rows) return size;
    return rows;
  }

  private launch(slices: BatchSlice[]): void {
    this.inFlight++;
    void this.execute(slices).finally(() => {
      this.inFlight--;
      this.dispatch();
    });
  }

  private async execute(slices: BatchSlice[]): Promise<void> {
    const live = slices.filter((s) => !s.task.settled);
    if (live.length === 0) return;
    let outputs: TensorMap[];
    try {
      outputs = await this.runSlices(live);
    } catch (error) {
      if (live.length === 1) {
        this.fail((live[0] as BatchSlice).task, error);
        return;
      }
      // One bad request must not fail the others batched with it: when a batched run throws, run
      // every request of the batch again on its own (sequentially, in this same execution slot, so
      // numBatchThreads still holds), and only the ones that fail alone get an error. Inference is
      // side-effect free, so the retry is safe; it costs one extra run per request of a failed batch.
      for (const slice of live) {
        if (slice.task.settled) continue;
        try {
          this.deliver([slice], await this.runSlices([slice]));
        } catch (soloError) {
          this.fail(slice.task, soloError);
        }
      }
      return;
    }
    this.deliver(live, outputs);
  }

  /**
   * Concatenates, runs, splits. Throws on a failed run. Outputs that do not batch along dim 0 are
   * not worth a retry: they fail every request of the batch.
   */
  private async runSlices(slices: BatchSlice[]): Promise<TensorMap[]> {
    const rows = slices.reduce((n, s) => n + s.rows, 0);
    const padded = this.paddedSize(rows);
    const inputs = concatRows(slices, padded);
    const started = performance.now();
    const outputs = await this.run(inputs, padded, { rows, tags: slices.map((s) => s.task.tag) });
    const latency = performance.now() - started;
    this.latencyEmaMs =
      this.latencyEmaMs === undefined ? latency : this.latencyEmaMs + LATENCY_EMA_WEIGHT * (latency - this.latencyEmaMs);
    try {
      return splitRows(
        outputs,
        slices.map((s) => s.rows),
        padded,
        this.name,
      );
    } catch (error) {
      for (const slice of slices) this.fail(slice.task, error);
      return slices.map(() => ({}));
    }
  }

  private deliver(slices: BatchSlice[], outputs: TensorMap[]): void {
    slices.forEach((slice, i) => {
      const task = slice.task;
      if (task.settled) return;
      task.parts[slice.part] = outputs[i] as TensorMap;
      task.partsDone++;
      if (task.taken < task.rows || task.partsDone < task.parts.length) return;
      task.settled = true;
      if (task.parts.length === 1) {
        task.resolve(task.parts[0] as TensorMap);
        return;
      }
      // A split request: reassemble its outputs in row order (one copy).
      const parts = task.parts as TensorMap[];
      try {
        task.resolve(concatRows(parts.map((p) => ({ inputs: p, start: 0, rows: rowsOf(p) })), task.rows));
      } catch (error) {
        task.reject(error);
      }
    });
  }

  private settleWithError(task: Task, error: unknown): void {
    if (task.settled) return;
    task.settled = true;
    task.reject(error);
  }

  /** Fails a request taken into a batch; drops the rows of it that are still queued (split requests). */
  private fail(task: Task, error: unknown): void {
    if (task.settled) return;
    if (task.taken < task.rows) {
      const level = task.priority - 1;
      const queue = task.group.levels[level] as Fifo<Task>;
      queue.retain((t) => t !== task);
      this.dequeued(task.group, level, task.rows - task.taken);
      task.taken = task.rows;
      this.refreshGroup(task.group);
    }
    this.settleWithError(task, error);
  }

  private finishCloseIfIdle(): void {
    if (!this.closing || this.inFlight > 0 || this.groups.size > 0 || !this.resolveClosed) return;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.timerAt = Infinity;
    const resolve = this.resolveClosed;
    this.resolveClosed = undefined;
    resolve();
  }
}

function rowsOf(outputs: TensorMap): number {
  for (const t of Object.values(outputs)) return t.dims[0] as number;
  return 0;
}
