import { MODEL_RUNTIME_FILE, sharedModelStore } from '@maas/model-store';

/** True when a runtime.json asks for a GPU provider first (e.g. ["webgpu", "cpu"]); "auto" and cpu are not a preference. */
export function runtimeFilePrefersGpu(text: string): boolean {
  try {
    const first = (JSON.parse(text) as { execution_providers?: unknown }).execution_providers;
    return Array.isArray(first) && typeof first[0] === 'string' && first[0] !== 'cpu' && first[0] !== 'auto';
  } catch {
    return false; // the worker reports the broken file when it loads the model
  }
}

/**
 * Which models' runtime config prefers a GPU provider, so placement sends them to GPU workers
 * before any replica has loaded (after that, the provider a worker reports says it). Files are
 * read in the background once per catalogue revision; a round never waits for the store.
 */
export class RuntimePreferences {
  private gpu = new Set<string>();
  private revision?: number;

  constructor(private readonly readText: (dir: string, name: string) => Promise<string | undefined> = (dir, name) => sharedModelStore().readText(dir, name)) {}

  /** Starts re-reading when the catalogue changed; resolves when that read is done (tests wait on it). */
  refresh(revision: number, models: ReadonlyArray<{ name: string; basePath: string }>): Promise<void> {
    if (revision === this.revision) return Promise.resolve();
    this.revision = revision;
    return (async () => {
      const gpu = new Set<string>();
      for (const model of models) {
        const text = await this.readText(model.basePath, MODEL_RUNTIME_FILE).catch(() => undefined);
        if (text !== undefined && runtimeFilePrefersGpu(text)) gpu.add(model.name);
      }
      if (revision === this.revision) this.gpu = gpu;
    })();
  }

  prefersGpu(model: string): boolean {
    return this.gpu.has(model);
  }
}
