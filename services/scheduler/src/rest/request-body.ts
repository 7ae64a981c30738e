import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { InvalidArgumentError } from '@maas/errors';
import { recycleBody, takeBodyBuffer } from './body-buffers.js';

const gunzipAsync = promisify(gunzip);

/** A refusal decided by HTTP itself, not by a serving status (so not mapped through httpStatusFor). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const tooLarge = (what: string, limit: number) => new HttpError(413, `${what} exceeds the limit of ${limit} bytes (--rest_api_max_body_bytes)`);

/**
 * The request body, refused with 413 beyond `maxBytes` before anything is parsed: first by the
 * declared Content-Length, then by counting bytes as they arrive. `Content-Encoding: gzip` bodies
 * are decompressed (off the event loop) with the same limit on the decompressed size.
 */
export async function readRequestBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (declared > maxBytes) throw tooLarge(`Request body of ${declared} bytes`, maxBytes);
  const body = await collect(request, maxBytes);
  const encoding = request.headers['content-encoding']?.trim().toLowerCase();
  if (encoding !== 'gzip' && encoding !== 'x-gzip') return body;
  try {
    return await gunzipAsync(body, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge('Decompressed request body', maxBytes);
    throw new InvalidArgumentError(`Failed to decompress gzip request body: ${(error as Error).message}`);
  } finally {
    recycleBody(body);
  }
}

/**
 * Collects the body up to `maxBytes`, its chunks joined at the end into a reused buffer
 * (takeBodyBuffer; memory grows only as bytes arrive, whatever length a client declares). Past the
 * limit the rest is read and dropped rather than the stream destroyed, so the 413 answer can still
 * reach the client (the server then closes the connection).
 */
function collect(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let refused = false;
    request.on('data', (chunk: Buffer) => {
      if (refused) return;
      received += chunk.length;
      if (received > maxBytes) {
        refused = true;
        chunks.length = 0;
        reject(tooLarge('Request body', maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : join(chunks, received)));
    request.once('error', reject);
    // A client that goes away mid-body. Checked before the error is built: 'close' follows every
    // request, and an Error's stack costs ~30 µs.
    request.once('close', () => {
      if (!request.complete) reject(new HttpError(400, 'Request body ended before it was complete'));
    });
  });
}

function join(chunks: readonly Buffer[], length: number): Buffer {
  const body = takeBodyBuffer(length);
  let at = 0;
  for (const chunk of chunks) at += chunk.copy(body, at);
  return body;
}
