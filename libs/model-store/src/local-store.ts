import { readdir, readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { NotFoundError } from '@maas/errors';
import { fileContentHash } from './content-hash.js';
import { childLocation, uriScheme } from './location.js';
import { MODEL_FILE_NAME, parseVersionName, type LocalModel, type ModelStore } from './model-store.js';

/** The local path of an absolute path or a file:// URI (percent-escapes decoded, as URLs are). */
export function localPathOf(location: string): string {
  return uriScheme(location) === 'file' ? fileURLToPath(location) : location;
}

const isMissing = (error: unknown) => ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');

/**
 * Models on a file system this machine mounts (a local disk, or a shared ReadOnlyMany volume),
 * named by absolute paths or file:// URIs. Locations keep the form the base path was given in.
 */
export class LocalModelStore implements ModelStore {
  async scanVersions(basePath: string): Promise<Map<number, string>> {
    const versions = new Map<number, string>();
    const names = await readdir(localPathOf(basePath)).catch(() => [] as string[]);
    for (const name of names) {
      const version = parseVersionName(name);
      if (version === undefined || versions.has(version)) continue;
      const file = childLocation(childLocation(basePath, name), MODEL_FILE_NAME);
      const info = await stat(localPathOf(file)).catch(() => undefined);
      if (info?.isFile()) versions.set(version, file);
    }
    return versions;
  }

  async readText(dir: string, name: string): Promise<string | undefined> {
    try {
      return await readFile(localPathOf(childLocation(dir, name)), 'utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** The file itself: nothing is copied. Its hash is read once per load. */
  async materialize(location: string): Promise<LocalModel> {
    const path = localPathOf(location);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new NotFoundError(`Model file ${location} does not exist`);
    return { path, contentHash: await fileContentHash(path) };
  }
}
