import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UnavailableError, FailedPreconditionError } from '@maas/errors';
import { hashingStream } from './content-hash.js';
import type { LocalModel } from './model-store.js';

/** What the store knows about a remote file before downloading it. */
export interface RemoteFile {
  /** Where it is, e.g. s3://bucket/models/m/3/model.onnx. */
  location: string;
  /** The store's identity of this content (S3's ETag): a different value means different bytes. */
  etag: string;
  size: number;
  /** Opens the content with exactly this etag. */
  open: () => Promise<Readable>;
}

const HASH_FILE = 'content-hash';
/** A download directory left this long is from a process that died mid-download. */
const ABANDONED_DOWNLOAD_MS = 3_600_000;

/** A name safe as one path segment for an ETag ("abc123-4" stays; anything odd becomes its hash). */
function etagSegment(etag: string): string {
  const plain = etag.replace(/^W\//, '').replace(/"/g, '');
  return /^[A-Za-z0-9-]{1,100}$/.test(plain) ? plain : createHash('sha256').update(etag).digest('hex');
}

/**
 * Remote model files copied to local disk, so onnxruntime can open them: one directory per
 * location (named by its hash), holding the copy of the current ETag. A file whose ETag has not
 * changed is never downloaded twice, across restarts too when the directory persists. Downloads
 * go to a private directory renamed into place, so a reader never sees half a file.
 */
export class ModelFileCache {
  private ready?: Promise<void>;
  /** Downloads in progress, so concurrent loads of one file share one download. */
  private readonly inFlight = new Map<string, Promise<LocalModel>>();

  constructor(readonly root: string) {}

  fetch(file: RemoteFile): Promise<LocalModel> {
    const locationDir = join(this.root, createHash('sha256').update(file.location).digest('hex').slice(0, 32));
    const entryDir = join(locationDir, etagSegment(file.etag));
    const running = this.inFlight.get(entryDir);
    if (running) return running;
    const fetched = this.fetchInto(file, locationDir, entryDir).finally(() => this.inFlight.delete(entryDir));
    this.inFlight.set(entryDir, fetched);
    return fetched;
  }

  private async fetchInto(file: RemoteFile, locationDir: string, entryDir: string): Promise<LocalModel> {
    await (this.ready ??= this.prepareRoot());
    const name = file.location.slice(file.location.lastIndexOf('/') + 1);
    const fileName = /^[\w.-]{1,200}$/.test(name) ? name : 'model';
    const cached = await this.cached(entryDir, fileName, file.size);
    if (cached) return cached;
    const partDir = `${entryDir}.part-${randomUUID()}`;
    await mkdir(partDir, { recursive: true });
    try {
      const hashing = hashingStream();
      await pipeline(await file.open(), hashing.stream, createWriteStream(join(partDir, fileName)));
      if (hashing.bytes() !== file.size) {
        throw new UnavailableError(`Downloaded ${hashing.bytes()} bytes of ${file.location}, expected ${file.size}`);
      }
      await writeFile(join(partDir, HASH_FILE), hashing.contentHash());
      await rename(partDir, entryDir).catch(async (error: NodeJS.ErrnoException) => {
        // Another process sharing the cache finished the same download first: keep its copy.
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      });
    } finally {
      await rm(partDir, { recursive: true, force: true });
    }
    await this.pruneOthers(locationDir, entryDir);
    const stored = await this.cached(entryDir, fileName, file.size);
    if (!stored) throw new UnavailableError(`The cached copy of ${file.location} in ${entryDir} is incomplete`);
    return stored;
  }

  private async cached(entryDir: string, fileName: string, size: number): Promise<LocalModel | undefined> {
    const path = join(entryDir, fileName);
    const [info, contentHash] = await Promise.all([stat(path).catch(() => undefined), readFile(join(entryDir, HASH_FILE), 'utf8').catch(() => undefined)]);
    return info?.isFile() && info.size === size && contentHash ? { path, contentHash } : undefined;
  }

  /** Older contents of the same location go; a loaded session no longer needs its file. */
  private async pruneOthers(locationDir: string, keep: string): Promise<void> {
    for (const name of await readdir(locationDir)) {
      const path = join(locationDir, name);
      if (path === keep) continue;
      if (name.includes('.part-')) {
        const info = await stat(path).catch(() => undefined);
        if (!info || Date.now() - info.mtimeMs < ABANDONED_DOWNLOAD_MS) continue;
      }
      await rm(path, { recursive: true, force: true });
    }
  }

  /** The cache holds files the worker will execute: it must be this user's own directory. */
  private async prepareRoot(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const info = await stat(this.root);
    if (process.getuid && info.uid !== process.getuid()) {
      throw new FailedPreconditionError(`Model cache directory ${this.root} belongs to another user (uid ${info.uid})`);
    }
  }
}
