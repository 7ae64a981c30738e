import { UnimplementedError } from '@maas/errors';
import { uriScheme } from './location.js';
import type { LocalModel, ModelStore } from './model-store.js';

/** The stores behind each scheme; remote ones are built on first use. */
export interface StoresByScheme {
  /** Absolute paths and file:// URIs. */
  local: ModelStore;
  s3: () => ModelStore;
}

/** One ModelStore over every supported scheme: each call goes to the store its location names. */
export class SchemeRouter implements ModelStore {
  private s3?: ModelStore;

  constructor(private readonly stores: StoresByScheme) {}

  private storeFor(location: string): ModelStore {
    const scheme = uriScheme(location);
    if (scheme === undefined || scheme === 'file') return this.stores.local;
    if (scheme === 's3') return (this.s3 ??= this.stores.s3());
    // TensorFlow's words for a path whose scheme has no file system registered.
    throw new UnimplementedError(`File system scheme '${scheme}' not implemented (file: '${location}')`);
  }

  async scanVersions(basePath: string): Promise<Map<number, string>> {
    return this.storeFor(basePath).scanVersions(basePath);
  }

  async readText(dir: string, name: string): Promise<string | undefined> {
    return this.storeFor(dir).readText(dir, name);
  }

  async materialize(location: string): Promise<LocalModel> {
    return this.storeFor(location).materialize(location);
  }
}
