import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under the OS temp dir for one test's model repository. */
export function makeTempDir(prefix = 'maas-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `<basePath>/<version>/model.onnx` (TF Serving's layout) and returns the file path. */
export function writeModelVersion(basePath: string, version: number | string, model: Uint8Array): string {
  const dir = join(basePath, String(version));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'model.onnx');
  writeFileSync(file, model);
  return file;
}
