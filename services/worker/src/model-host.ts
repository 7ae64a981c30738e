import { NotFoundError } from '@maas/errors';
import { defaultRuntimeOptions, type RuntimeOptions } from '@maas/onnx-runtime';
import type { ModelCatalog, ModelEntry } from '@maas/registry';
import type { ServableRequest } from '@maas/serving-api';
import { describeServableRequest } from '@maas/serving-api';
import { ServedModel, type LeasedVersion } from './served-model.js';
import { VersionState } from './model-version.js';
import { scanVersions } from './version-scan.js';

export interface ModelHostOptions {
  /** Seconds between scans of the model base paths; 0 scans once, negative never rescans. */
  pollSeconds: number;
  runtime?: RuntimeOptions;
  log?: (message: string) => void;
}

/**
 * The worker's models: follows the catalogue, scans each model's base path for versions, loads
 * and unloads them, and hands out leases on loaded versions to requests.
 */
export class ModelHost {
  private readonly models = new Map<string, ServedModel>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly runtime: RuntimeOptions;
  private readonly log: (message: string) => void;

  constructor(
    private readonly catalog: ModelCatalog,
    private readonly options: ModelHostOptions,
  ) {
    this.runtime = options.runtime ?? defaultRuntimeOptions();
    this.log = options.log ?? (() => {});
    catalog.on('change', (entries) => void this.follow(entries).catch((error) => this.log(`reconcile failed: ${String(error)}`)));
  }

  /** Loads what the catalogue wants and resolves once every model has an available version. */
  async start(): Promise<void> {
    await this.follow(this.catalog.list());
    await this.waitUntilServing();
    this.schedulePoll();
  }

  /** Brings the served set in line with the catalogue, then scans every model once. */
  async follow(entries: readonly ModelEntry[]): Promise<void> {
    const names = new Set(entries.map((e) => e.name));
    for (const [name, model] of this.models) {
      if (!names.has(name)) {
        this.models.delete(name);
        await model.unloadAll();
      }
    }
    for (const entry of entries) {
      const existing = this.models.get(entry.name);
      if (existing) existing.entry = entry;
      else this.models.set(entry.name, new ServedModel(entry, this.runtime, this.log));
    }
    await this.scan();
  }

  /** Scans every base path and reconciles each model with what it finds. */
  async scan(): Promise<void> {
    await Promise.all([...this.models.values()].map(async (model) => model.reconcile(await scanVersions(model.entry.basePath))));
  }

  private async waitUntilServing(): Promise<void> {
    for (;;) {
      const failed = [...this.models.values()].flatMap((m) => [...m.versions.values()].filter((v) => v.error));
      if (failed.length > 0) {
        throw new Error(`${failed.length} servable(s) did not become available: ${failed.map((v) => `${v.label}: ${v.error?.message}`).join('; ')}`);
      }
      const waiting = [...this.models.values()].filter((m) => m.availableVersions().length === 0);
      if (waiting.length === 0 || this.stopped) return;
      this.log(`waiting for versions of ${waiting.map((m) => `${m.name} under ${m.entry.basePath}`).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, Math.max(200, this.options.pollSeconds * 1000)));
      await this.scan();
    }
  }

  private schedulePoll(): void {
    if (this.options.pollSeconds <= 0 || this.stopped) return;
    this.timer = setTimeout(() => {
      this.scan()
        .catch((error) => this.log(`scan failed: ${String(error)}`))
        .finally(() => this.schedulePoll());
    }, this.options.pollSeconds * 1000);
  }

  model(name: string): ServedModel | undefined {
    return this.models.get(name);
  }

  /** Resolves a request to a loaded version and leases it; NOT_FOUND as TF Serving words it. */
  lease(request: Pick<ServableRequest, 'name' | 'choice'>): LeasedVersion {
    const model = this.models.get(request.name);
    if (!model) throw new NotFoundError(`Servable not found for request: ${describeServableRequest(request)}`);
    return model.lease(request.choice);
  }

  /** Whether every model has a version ready (health checks use this). */
  isServing(): boolean {
    return [...this.models.values()].every((m) => m.versions.size > 0 && m.availableVersions().length > 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.all([...this.models.values()].map((m) => m.unloadAll()));
  }
}

export { VersionState };
