import type { ModelServerConfig } from '@maas/protos';
import { entriesFromConfig, type ModelEntry } from './model-entry.js';

/**
 * The set of models a server should serve. Single-node, it lives in-process and is filled from
 * the command line or a config file; whoever replaces it then tells the worker to follow.
 */
export class ModelCatalog {
  private entries: ModelEntry[] = [];

  constructor(config?: ModelServerConfig) {
    if (config) this.entries = entriesFromConfig(config);
  }

  list(): readonly ModelEntry[] {
    return this.entries;
  }

  get(name: string): ModelEntry | undefined {
    return this.entries.find((entry) => entry.name === name);
  }

  /** Validates, then replaces the whole catalogue (TF Serving's reload semantics). */
  replace(config: ModelServerConfig): ModelEntry[] {
    const entries = entriesFromConfig(config);
    this.entries = entries;
    return entries;
  }
}
