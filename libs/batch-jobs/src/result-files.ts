import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { FailedPreconditionError, InvalidArgumentError } from '@maas/errors';

/*
 * Results are written in parts, one file per chunk, each replaced whole (write then rename), so a
 * chunk processed twice leaves one copy. The finalize step concatenates them in chunk order into
 * the results file, again by rename, and only then removes the parts.
 */

/** The directory of a job's parts, next to its output (the same file system, so renames are atomic). */
export function partsDir(outputPath: string, jobId: string): string {
  return join(dirname(outputPath), `.${basename(outputPath)}.${jobId}.parts`);
}

export function partFile(dir: string, chunk: number): string {
  return join(dir, `chunk-${String(chunk).padStart(6, '0')}.jsonl`);
}

/** Where a job that did not complete leaves the rows it processed. */
export function partialPath(outputPath: string): string {
  return `${outputPath}.partial`;
}

/** Writes `path` whole or not at all: a crash leaves the old file (or none), never half of the new one. */
async function replaceFile(path: string, write: (temporary: string) => Promise<void>): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  try {
    await write(temporary);
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
}

/** Writes one chunk's lines; the parts directory must exist (it is gone once the job has ended). */
export async function writePart(dir: string, chunk: number, text: string): Promise<void> {
  await replaceFile(partFile(dir, chunk), (temporary) => writeFile(temporary, text));
}

/** A chunk's part, or undefined when it was never written. */
export async function readPart(dir: string, chunk: number): Promise<Buffer | undefined> {
  try {
    return await readFile(partFile(dir, chunk));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes `target` from the pieces, in order (each read only when its turn comes). */
export async function assembleFile(target: string, pieces: Iterable<() => Promise<Buffer | string>>): Promise<void> {
  await replaceFile(target, async (temporary) => {
    const file = await open(temporary, 'w');
    try {
      for (const piece of pieces) {
        const content = await piece();
        await (typeof content === 'string' ? file.write(content) : file.write(content));
      }
    } finally {
      await file.close();
    }
  });
}

export async function removeParts(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

function outputError(path: string, error: NodeJS.ErrnoException): Error {
  switch (error.code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new FailedPreconditionError(`output ${path} cannot be written: directory ${dirname(path)} does not exist`);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new FailedPreconditionError(`output ${path} cannot be written: permission denied in ${dirname(path)}`);
    default:
      return new FailedPreconditionError(`output ${path} cannot be written: ${error.message}`);
  }
}

/**
 * Checks at submit that the output can be written, by creating the job's parts directory next
 * to it (the first thing the workers need). Returns that directory.
 */
export async function prepareOutput(outputPath: string, jobId: string): Promise<string> {
  if (!outputPath) throw new InvalidArgumentError('output_path is required');
  if (!isAbsolute(outputPath)) throw new InvalidArgumentError(`output_path must be absolute (on storage the workers share), got ${outputPath}`);
  const existing = await stat(outputPath).catch(() => undefined);
  if (existing?.isDirectory()) throw new FailedPreconditionError(`output ${outputPath} is a directory`);
  const dir = partsDir(outputPath, jobId);
  try {
    await mkdir(dir);
  } catch (error) {
    throw outputError(outputPath, error as NodeJS.ErrnoException);
  }
  return dir;
}
