/*
 * Spare buffers for request bodies (their chunks joined), taken back once a body has been read
 * into tensors. A fresh Buffer per body is memory outside V8's heap, and V8 starts full garbage
 * collections by how much of that was allocated since the last one: with one 224×224×3 float
 * image per request (3 MB of JSON) a REST server ran 17 full collections in 500 requests, 2 with
 * the buffers reused. Only buffers handed out here are taken back, and only as many as
 * SPARE_BYTES holds.
 */

/** Smaller bodies come from Buffer's own pool. */
const MIN_POOLED = 64 * 1024;
/** Larger ones are rare enough to allocate each time. */
const MAX_POOLED = 8 * 1024 * 1024;
const SPARE_BYTES = 32 * 1024 * 1024;

const spare: ArrayBuffer[] = [];
let spareBytes = 0;
const handedOut = new WeakSet<ArrayBuffer>();

/** A buffer of exactly `size` bytes, not zeroed: a spare one when one is large enough. */
export function takeBodyBuffer(size: number): Buffer {
  if (size < MIN_POOLED || size > MAX_POOLED) return Buffer.allocUnsafe(size);
  const at = spare.findIndex((buffer) => buffer.byteLength >= size);
  let backing: ArrayBuffer;
  if (at >= 0) {
    backing = spare.splice(at, 1)[0]!;
    spareBytes -= backing.byteLength;
  } else {
    // A power of two, so bodies of about the same size share buffers.
    backing = new ArrayBuffer(2 ** Math.ceil(Math.log2(size)));
  }
  handedOut.add(backing);
  return Buffer.from(backing, 0, size);
}

/** Takes a body's buffer back: the caller no longer refers to any of its bytes. */
export function recycleBody(body: Uint8Array): void {
  const backing = body.buffer as ArrayBuffer;
  if (!handedOut.delete(backing)) return;
  spare.push(backing);
  spareBytes += backing.byteLength;
  // Over the budget the smallest go first: the large ones are the ones worth keeping.
  spare.sort((a, b) => b.byteLength - a.byteLength);
  while (spareBytes > SPARE_BYTES) spareBytes -= spare.pop()!.byteLength;
}
