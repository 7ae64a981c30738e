import { performance } from 'node:perf_hooks';
import { status } from '@grpc/grpc-js';
import { asServingError, InvalidArgumentError } from '@maas/errors';
import { errorLine, predictionLine, type BatchModelSpec, type InputRow } from '@maas/batch-jobs';
import type { ModelSignature } from '@maas/onnx-runtime';
import type { ServableRequest, VersionChoice } from '@maas/serving-api';
import type { ModelHost } from '../model-host.js';
import type { LeasedVersion } from '../served-model.js';
import type { OnlineGate } from './online-gate.js';
import { predictionJson } from './prediction-json.js';
import { rowFeeds, rowsPerRunLimit, shapeKey, stackRows, type RowFeeds } from './row-tensors.js';

/** A chunk's result lines in row order, and how many are errors. */
export interface ChunkLines {
  lines: string[];
  failed: number;
  /** The first error line's message ('' when none), and its row. */
  firstError: string;
  firstErrorRow: number;
}

export interface RowRunnerOptions {
  /** Rows per run are sized so one run (with its JSON work) takes about this long: online requests wait at most that. */
  sliceMs: number;
  maxSliceRows: number;
}

/** Failures that belong to the rows themselves; anything else (model gone, overload, …) fails the chunk, which is retried. */
const ROW_CODES = new Set<number>([status.INVALID_ARGUMENT, status.FAILED_PRECONDITION, status.OUT_OF_RANGE, status.UNIMPLEMENTED]);

function versionChoice(model: BatchModelSpec): VersionChoice {
  if (model.version !== undefined) return { kind: 'specific', version: model.version };
  if (model.label) return { kind: 'label', label: model.label };
  return { kind: 'latest' };
}

/** Rows of one slice that share a run. */
interface Group {
  /** Positions in the slice. */
  positions: number[];
  feeds: RowFeeds[];
}

/**
 * Runs a chunk's rows on this worker's own model versions, through the version's runner (the
 * same dynamic batcher as online requests when batching is on). Rows go in slices sized to a time
 * budget; before each slice the online gate may hold the batch back.
 */
export class RowRunner {
  /** Learned slice size per model, so a new chunk starts where the last one ended. */
  private readonly sliceRows = new Map<string, number>();

  constructor(
    private readonly host: ModelHost,
    private readonly gate: OnlineGate,
    private readonly options: RowRunnerOptions,
  ) {}

  async run(model: BatchModelSpec, rows: readonly InputRow[], signal: AbortSignal): Promise<ChunkLines> {
    const out: ChunkLines = { lines: [], failed: 0, firstError: '', firstErrorRow: -1 };
    const request: Pick<ServableRequest, 'name' | 'choice'> = { name: model.name, choice: versionChoice(model) };
    for (let next = 0; next < rows.length; ) {
      await this.gate.admit(signal);
      const size = this.sliceRows.get(model.name) ?? 4;
      const slice = rows.slice(next, next + size);
      const began = performance.now();
      out.lines.push(...(await this.runSlice(request, slice, out)));
      const elapsed = performance.now() - began;
      this.gate.ran(elapsed);
      if (slice.length === size) this.resize(model.name, size, elapsed);
      next += slice.length;
    }
    return out;
  }

  /** Grows (at most doubling) or shrinks the slice towards the time budget. */
  private resize(model: string, size: number, elapsedMs: number): void {
    const ideal = elapsedMs > 0 ? Math.floor((this.options.sliceMs * size) / elapsedMs) : this.options.maxSliceRows;
    this.sliceRows.set(model, Math.max(1, Math.min(this.options.maxSliceRows, 2 * size, ideal)));
  }

  private async runSlice(request: Pick<ServableRequest, 'name' | 'choice'>, slice: readonly InputRow[], out: ChunkLines): Promise<string[]> {
    const leased = this.host.lease(request);
    const releaseCount = this.gate.holdLease();
    try {
      const lines = new Array<string>(slice.length);
      const fail = (position: number, error: unknown) => {
        const message = asServingError(error).message;
        lines[position] = errorLine(slice[position]!.row, message);
        out.failed++;
        const row = slice[position]!.row;
        if (out.firstErrorRow < 0 || row < out.firstErrorRow) {
          out.firstError = `row ${row}: ${message}`;
          out.firstErrorRow = row;
        }
      };
      const signature = leased.model.signature;
      let limit: number;
      try {
        limit = rowsPerRunLimit(signature);
      } catch (error) {
        slice.forEach((_, position) => fail(position, error));
        return lines;
      }
      const groups = new Map<string, Group>();
      slice.forEach((input, position) => {
        try {
          const feeds = rowFeeds(signature, parseRow(input));
          const key = shapeKey(feeds);
          const group = groups.get(key) ?? { positions: [], feeds: [] };
          group.positions.push(position);
          group.feeds.push(feeds);
          groups.set(key, group);
        } catch (error) {
          if (!ROW_CODES.has(asServingError(error).code)) throw error;
          fail(position, error);
        }
      });
      for (const group of groups.values()) {
        for (let i = 0; i < group.positions.length; i += limit) {
          const part = { positions: group.positions.slice(i, i + limit), feeds: group.feeds.slice(i, i + limit) };
          await this.runGroup(leased, signature, part, slice, lines, fail);
        }
      }
      return lines;
    } finally {
      leased.release();
      releaseCount();
    }
  }

  /** One run for the group; if the model rejects it, each row runs alone so only the bad ones fail. */
  private async runGroup(
    leased: LeasedVersion,
    signature: ModelSignature,
    group: Group,
    slice: readonly InputRow[],
    lines: string[],
    fail: (position: number, error: unknown) => void,
  ): Promise<void> {
    try {
      const results = await leased.runner.run(stackRows(signature, group.feeds), signature.outputs.map((o) => o.name), {});
      for (const spec of signature.outputs) {
        const batch = results[spec.name]?.dims[0];
        if (batch !== group.positions.length) {
          throw new InvalidArgumentError(`output '${spec.alias}' has ${batch ?? 'no'} rows for ${group.positions.length} input rows`);
        }
      }
      group.positions.forEach((position, r) => (lines[position] = predictionLine(slice[position]!.row, predictionJson(signature.outputs, results, r))));
    } catch (error) {
      if (!ROW_CODES.has(asServingError(error).code)) throw error;
      if (group.positions.length === 1) return fail(group.positions[0]!, error);
      for (let i = 0; i < group.positions.length; i++) {
        await this.runGroup(leased, signature, { positions: [group.positions[i]!], feeds: [group.feeds[i]!] }, slice, lines, fail);
      }
    }
  }
}

function parseRow(input: InputRow): unknown {
  try {
    return JSON.parse(input.text);
  } catch (error) {
    const where = input.line !== undefined ? `line ${input.line}` : `instance ${input.row}`;
    throw new InvalidArgumentError(`${where} is not JSON: ${(error as Error).message}`);
  }
}
