/** The file a version directory must hold to be a version (TF Serving's layout with ONNX in place of a SavedModel). */
export const MODEL_FILE_NAME = 'model.onnx';
/** Per-model runtime settings beside the version directories: `<base_path>/runtime.json` (read by workers, and by the scheduler for placement). */
export const MODEL_RUNTIME_FILE = 'runtime.json';

/** A model file onnxruntime can open, and what it holds. */
export interface LocalModel {
  /** A local path: the file itself for local stores, a cached copy for remote ones. */
  path: string;
  /** `sha256:<hex>` of the file's bytes, the same for a model wherever it is stored. */
  contentHash: string;
}

/**
 * Where a model's versions live. Locations are strings in the store's own form (a path, a
 * file:// URI, an s3:// URI); a base path is a location whose numeric child directories are
 * versions, `<base>/<version>/model.onnx`.
 */
export interface ModelStore {
  /** Version -> location of its model file. A base path that does not exist has no versions yet (TF Serving waits for it). */
  scanVersions(basePath: string): Promise<Map<number, string>>;
  /** The text of a small file `name` in directory `dir` (a base path or a version directory); undefined when there is none. */
  readText(dir: string, name: string): Promise<string | undefined>;
  /** A local file holding the model at `location`; a remote one is downloaded once per content and cached. */
  materialize(location: string): Promise<LocalModel>;
}

/** A version directory name is an int64 in decimal ("00000123" is 123); other names are not versions. */
export function parseVersionName(name: string): number | undefined {
  if (!/^\d{1,18}$/.test(name)) return undefined;
  const version = Number(name);
  return Number.isSafeInteger(version) ? version : undefined;
}
