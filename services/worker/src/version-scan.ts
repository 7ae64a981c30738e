import { sharedModelStore } from '@maas/model-store';

/**
 * The versions present under a base path (TF Serving's layout, `<base>/<version>/model.onnx`, at
 * an absolute path, a file:// or an s3:// URI), as version -> location of the model file. A
 * missing base path has no versions yet: TF Serving waits for it.
 */
export function scanVersions(basePath: string): Promise<Map<number, string>> {
  return sharedModelStore().scanVersions(basePath);
}
