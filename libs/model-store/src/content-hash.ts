import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** How content hashes are written: the algorithm, then the hex digest. */
export function formatContentHash(hash: Hash): string {
  return `sha256:${hash.digest('hex')}`;
}

/** `sha256:<hex>` of a local file, read as a stream (models can be gigabytes). */
export async function fileContentHash(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return formatContentHash(hash);
}

/** A pass-through that hashes and counts what flows through it (a download on its way to disk). */
export function hashingStream(): { stream: Transform; bytes: () => number; contentHash: () => string } {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  return { stream, bytes: () => bytes, contentHash: () => formatContentHash(hash) };
}
