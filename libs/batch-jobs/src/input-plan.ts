import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@maas/errors';

/** Where one chunk's rows are: a byte range of the input file, or the inline rows themselves. */
export type ChunkSource =
  /** `digest`: of the chunk's rows as read at submit, so a worker can tell the file has changed since. */
  | { kind: 'file'; start: number; end: number; firstLine: number; digest: string }
  | { kind: 'inline'; instances: string[] };

export interface ChunkPlan {
  index: number;
  /** Row number of the chunk's first row (rows count from 0 over non-blank lines). */
  firstRow: number;
  rows: number;
  source: ChunkSource;
}

export interface InputPlan {
  totalRows: number;
  chunks: ChunkPlan[];
}

/** Malformed lines reported at submit, at most. */
const MAX_REPORTED = 5;

const NEWLINE = 0x0a;

/** Lines with only spaces, tabs and a carriage return hold no row. */
export function isBlank(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/** The digest of a chunk's rows: each row's bytes and a newline, blank lines left out. */
export function rowsDigest(): Hash {
  return createHash('sha1');
}

function jsonError(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function readError(path: string, error: NodeJS.ErrnoException): Error {
  switch (error.code) {
    case 'ENOENT':
      return new NotFoundError(`input file ${path} does not exist`);
    case 'EACCES':
    case 'EPERM':
      return new FailedPreconditionError(`input file ${path} cannot be read: permission denied`);
    case 'EISDIR':
      return new FailedPreconditionError(`input file ${path} is a directory`);
    default:
      return new FailedPreconditionError(`input file ${path} cannot be read: ${error.message}`);
  }
}

/**
 * Reads a JSON Lines input once at submit: every non-blank line must be one JSON value (a
 * malformed one is refused with its line number), and rows are cut into chunks of byte ranges so
 * a worker reads only its own part of the file.
 */
export async function planFileInput(path: string, rowsPerChunk: number): Promise<InputPlan> {
  const chunks: ChunkPlan[] = [];
  const malformed: string[] = [];
  let malformedCount = 0;
  let rows = 0;
  let line = 0;
  let offset = 0; // file offset of carry[0]
  let carry: Buffer = Buffer.alloc(0);
  let open: ChunkPlan | undefined;
  let digest = rowsDigest();
  const close = () => {
    if (open?.source.kind === 'file') open.source.digest = digest.digest('hex');
    open = undefined;
    digest = rowsDigest();
  };

  /** A line from `start` to `end` (its newline excluded) of `bytes`, which begin at file offset `offset`. */
  const takeLine = (bytes: Buffer, start: number, end: number, newline: boolean) => {
    line++;
    if (isBlank(bytes, start, end)) return;
    const problem = jsonError(bytes.toString('utf8', start, end));
    if (problem !== undefined && malformedCount++ < MAX_REPORTED) malformed.push(`line ${line}: ${problem}`);
    if (!open) {
      open = { index: chunks.length, firstRow: rows, rows: 0, source: { kind: 'file', start: offset + start, end: 0, firstLine: line, digest: '' } };
      chunks.push(open);
    }
    open.rows++;
    (open.source as { end: number }).end = offset + end + (newline ? 1 : 0);
    digest.update(bytes.subarray(start, end)).update('\n');
    rows++;
    if (open.rows === rowsPerChunk) close();
  };

  try {
    for await (const piece of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      const bytes: Buffer = carry.length > 0 ? Buffer.concat([carry, piece]) : piece;
      let start = 0;
      for (let nl = bytes.indexOf(NEWLINE, start); nl >= 0; nl = bytes.indexOf(NEWLINE, start)) {
        takeLine(bytes, start, nl, true);
        start = nl + 1;
      }
      carry = bytes.subarray(start);
      offset += start;
    }
  } catch (error) {
    throw readError(path, error as NodeJS.ErrnoException);
  }
  if (carry.length > 0) takeLine(carry, 0, carry.length, false);
  close();
  if (malformedCount > 0) {
    const more = malformedCount > malformed.length ? `; and ${malformedCount - malformed.length} more` : '';
    throw new InvalidArgumentError(`input file ${path} has ${malformedCount} line(s) that are not JSON: ${malformed.join('; ')}${more}`);
  }
  if (rows === 0) throw new InvalidArgumentError(`input file ${path} has no rows`);
  return { totalRows: rows, chunks };
}

/** Inline rows (each the JSON text of one instance), checked and cut into chunks. */
export function planInlineInput(instances: readonly string[], rowsPerChunk: number): InputPlan {
  if (instances.length === 0) throw new InvalidArgumentError('no instances to run: give input_path or instances');
  const malformed = instances.flatMap((text, row) => {
    const problem = jsonError(text);
    return problem === undefined ? [] : [`instance ${row}: ${problem}`];
  });
  if (malformed.length > 0) throw new InvalidArgumentError(`${malformed.length} instance(s) are not JSON: ${malformed.slice(0, MAX_REPORTED).join('; ')}`);
  const chunks: ChunkPlan[] = [];
  for (let first = 0; first < instances.length; first += rowsPerChunk) {
    const part = instances.slice(first, first + rowsPerChunk);
    chunks.push({ index: chunks.length, firstRow: first, rows: part.length, source: { kind: 'inline', instances: part } });
  }
  return { totalRows: instances.length, chunks };
}
