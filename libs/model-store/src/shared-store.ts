import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalModelStore } from './local-store.js';
import { ModelFileCache } from './model-file-cache.js';
import type { ModelStore } from './model-store.js';
import { S3ModelStore, s3OptionsFromEnv } from './s3-store.js';
import { SchemeRouter } from './scheme-router.js';

/** Where downloaded models are kept: MAAS_MODEL_CACHE_DIR, else a per-user directory under the temp dir. */
export function modelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MAAS_MODEL_CACHE_DIR || join(tmpdir(), `maas-model-cache-${process.getuid?.() ?? 'user'}`);
}

let shared: SchemeRouter | undefined;

/** The process's model store for every supported scheme, configured from the environment on first use. */
export function sharedModelStore(): ModelStore {
  return (shared ??= new SchemeRouter({
    local: new LocalModelStore(),
    s3: () => new S3ModelStore({ ...s3OptionsFromEnv(), cache: new ModelFileCache(modelCacheDir()) }),
  }));
}
