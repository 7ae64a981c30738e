import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { FailedPreconditionError } from '@maas/errors';

export interface ResultsPage {
  lines: string[];
  nextOffset: number;
  end: boolean;
}

/** Lines offset..offset+limit-1 of a results file (read from the start: pages are for inspection, the file is the product). */
export async function readResultsPage(path: string, offset: number, limit: number): Promise<ResultsPage> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error) => reject(new FailedPreconditionError(`results ${path} cannot be read: ${error.message}`)));
  });
  await opened;
  const lines: string[] = [];
  let index = 0;
  let end = true;
  const reader = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of reader) {
      if (index >= offset + limit) {
        end = false;
        break;
      }
      if (index >= offset && line !== '') lines.push(line);
      index++;
    }
  } finally {
    reader.close();
    stream.destroy();
  }
  return { lines, nextOffset: offset + lines.length, end };
}
