import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const MODEL_FILE_NAME = 'model.onnx';

/** A version directory name is an int64 in decimal ("00000123" is 123); others are ignored. */
function parseVersion(name: string): number | undefined {
  if (!/^\d{1,18}$/.test(name)) return undefined;
  const version = Number(name);
  return Number.isSafeInteger(version) ? version : undefined;
}

/**
 * The versions present under a base path (TF Serving's layout, `<base>/<version>/model.onnx`),
 * as version -> model file. A missing base path has no versions yet: TF Serving waits for it.
 */
export async function scanVersions(basePath: string): Promise<Map<number, string>> {
  const versions = new Map<number, string>();
  let names: string[];
  try {
    names = await readdir(basePath);
  } catch {
    return versions;
  }
  for (const name of names) {
    const version = parseVersion(name);
    if (version === undefined || versions.has(version)) continue;
    const file = join(basePath, name, MODEL_FILE_NAME);
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile()) versions.set(version, file);
  }
  return versions;
}
