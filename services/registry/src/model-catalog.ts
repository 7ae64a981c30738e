import { EventEmitter } from 'node:events';
import type { ModelServerConfig } from '@maas/protos';
import { entriesFromConfig, type ModelEntry } from './model-entry.js';

/**
 * The set of models a server should serve. Single-node, it lives in-process and is filled from
 * the command line or a config file; replacing it emits 'change' so the worker reconciles.
 */
export class ModelCatalog extends EventEmitter<{ change: [ModelEntry[]] }> {
  private entries: ModelEntry[] = [];

  constructor(config?: ModelServerConfig) {
    super();
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
    this.emit('change', entries);
    return entries;
  }
}
