import { open } from 'node:fs/promises';
import { FailedPreconditionError } from '@maas/errors';
import { isBlank, rowsDigest, type ChunkPlan } from './input-plan.js';

/** One input row of a chunk: its row number, its line in the input file (file input only), its JSON text. */
export interface InputRow {
  row: number;
  line?: number;
  text: string;
}

/**
 * A chunk's rows: its byte range of the input file read with one positioned read, or its inline
 * rows. A file whose rows there differ from those seen at submit (edited since) is refused: its
 * row numbers would no longer be the plan's, and a retried chunk could give other results.
 */
export async function readChunkRows(inputPath: string, chunk: ChunkPlan): Promise<InputRow[]> {
  const { source } = chunk;
  if (source.kind === 'inline') return source.instances.map((text, i) => ({ row: chunk.firstRow + i, text }));
  const length = source.end - source.start;
  const buffer = Buffer.alloc(length);
  const file = await open(inputPath, 'r');
  let read = 0;
  try {
    while (read < length) {
      const { bytesRead } = await file.read(buffer, read, length - read, source.start + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
  } finally {
    await file.close();
  }
  const rows: InputRow[] = [];
  const digest = rowsDigest();
  let line = source.firstLine;
  for (let start = 0; start < read; line++) {
    const newline = buffer.indexOf(0x0a, start);
    const end = newline < 0 || newline >= read ? read : newline;
    if (!isBlank(buffer, start, end)) {
      digest.update(buffer.subarray(start, end)).update('\n');
      rows.push({ row: chunk.firstRow + rows.length, line, text: buffer.toString('utf8', start, end) });
    }
    start = end + 1;
  }
  if (rows.length !== chunk.rows || digest.digest('hex') !== source.digest) {
    throw new FailedPreconditionError(`input file ${inputPath} changed after the job was submitted: its rows in bytes ${source.start}..${source.end} are not those seen then`);
  }
  return rows;
}
