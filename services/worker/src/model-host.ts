import { DeadlineExceededError, FailedPreconditionError, NotFoundError } from '@maas/errors';
import type { ModelServerConfig } from '@maas/protos';
import { defaultRuntimeOptions, type RuntimeOptions } from '@maas/onnx-runtime';
import type { ModelCatalog, ModelEntry } from '@maas/registry';
import type { ServableRequest } from '@maas/serving-api';
import { describeServableRequest } from '@maas/serving-api';
import { ServedModel, type LeasedVersion } from './served-model.js';
import { VersionState } from './model-version.js';
import { scanVersions } from './version-scan.js';
import type { BatchingConfig } from './version-runner.js';
import type { VersionTuner } from './profiling/vertical-profiler.js';
import type { LoadRetryPolicy } from './load-retries.js';

export interface ModelHostOptions {
  /** Seconds between scans of the model base paths; 0 scans once, negative never rescans. */
  pollSeconds: number;
  /** --allow_version_labels_for_unavailable_models: new labels may point at versions not loaded yet. */
  allowUnavailableLabels?: boolean;
  runtime?: RuntimeOptions;
  /** Dynamic batching for every version (undefined: run each request on its own). */
  batching?: BatchingConfig;
  /** Vertical profiling of each version before it loads (off when undefined). */
  tune?: VersionTuner;
  /** Retries of a failed load (none when undefined). */
  loadRetries?: LoadRetryPolicy;
  log?: (message: string) => void;
}

/**
 * The worker's models: follows the catalogue, scans each model's base path for versions, loads
 * and unloads them, and hands out leases on loaded versions to requests.
 */
export class ModelHost {
  private readonly models = new Map<string, ServedModel>();
  /** Models removed from the catalogue; GetModelStatus still reports their ended versions, as TF Serving does. */
  private readonly retired = new Map<string, ServedModel>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** Config replacements run one at a time, in arrival order. */
  private configChain: Promise<void> = Promise.resolve();
  private readonly runtime: RuntimeOptions;
  private readonly log: (message: string) => void;

  constructor(
    private readonly catalog: ModelCatalog,
    private readonly options: ModelHostOptions,
  ) {
    this.runtime = options.runtime ?? defaultRuntimeOptions();
    this.log = options.log ?? (() => {});
  }

  /** Loads what the catalogue wants and resolves once every model has an available version. */
  async start(): Promise<void> {
    await this.follow(this.catalog.list());
    await this.waitUntilServing();
    this.applyLabels(this.catalog.list());
    this.schedulePoll();
  }

  /**
   * Replaces the whole configuration (HandleReloadConfigRequest, or an edited config file): new
   * models load and are waited for, removed ones unload after their in-flight requests, and
   * labels change last, once the versions they name can be checked. A config that does not
   * validate leaves everything as it was.
   */
  applyConfig(config: ModelServerConfig, deadline?: number): Promise<void> {
    const applied = this.configChain.then(async () => {
      const entries = this.catalog.replace(config);
      await this.follow(entries);
      await this.waitUntilServing(deadline);
      this.applyLabels(entries);
    });
    this.configChain = applied.catch(() => {});
    return applied;
  }

  /** Checks every label against loaded versions, then assigns them all or none (shared/spec §6.5). */
  private applyLabels(entries: readonly ModelEntry[]): void {
    for (const entry of entries) {
      const model = this.models.get(entry.name)!;
      for (const [label, version] of Object.entries(entry.labels)) {
        const available = model.versions.get(version)?.state === VersionState.AVAILABLE;
        const allowedNew = this.options.allowUnavailableLabels && model.labels[label] === undefined;
        if (!available && !allowedNew) {
          throw new FailedPreconditionError(
            `Request to assign label to version ${version} of model ${entry.name}, which is not currently available for inference`,
          );
        }
      }
    }
    for (const entry of entries) this.models.get(entry.name)!.labels = { ...entry.labels };
  }

  /** Brings the served set in line with the catalogue, then scans every model once. */
  async follow(entries: readonly ModelEntry[]): Promise<void> {
    const names = new Set(entries.map((e) => e.name));
    for (const [name, model] of this.models) {
      if (!names.has(name)) {
        this.models.delete(name);
        this.retired.set(name, model);
        await model.unloadAll();
      }
    }
    for (const entry of entries) {
      const existing = this.models.get(entry.name);
      if (existing) existing.entry = entry;
      else this.models.set(entry.name, new ServedModel(entry, this.runtime, this.options.batching, this.log, this.options.tune, this.options.loadRetries));
      this.retired.delete(entry.name);
    }
    await this.scan();
  }

  /** Scans every base path and reconciles each model with what it finds. */
  async scan(): Promise<void> {
    await Promise.all([...this.models.values()].map(async (model) => model.reconcile(await scanVersions(model.entry.basePath))));
  }

  /** Resolves once every model has an available version; fails if one of them cannot load. */
  private async waitUntilServing(deadline?: number): Promise<void> {
    for (;;) {
      const waiting = [...this.models.values()].filter((m) => m.availableVersions().length === 0);
      const failed = waiting.flatMap((m) => [...m.versions.values()].filter((v) => v.error));
      if (failed.length > 0) {
        throw new FailedPreconditionError(
          `${failed.length} servable(s) did not become available: ${failed.map((v) => `${v.label}: ${v.error?.message}`).join('; ')}`,
        );
      }
      if (waiting.length === 0 || this.stopped) return;
      if (deadline !== undefined && Date.now() >= deadline) {
        throw new DeadlineExceededError(`Deadline exceeded waiting for ${waiting.map((m) => m.name).join(', ')} to become available`);
      }
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

  /** A served or retired model (status only; requests lease through lease()). */
  model(name: string): ServedModel | undefined {
    return this.models.get(name) ?? this.retired.get(name);
  }

  servedModels(): ServedModel[] {
    return [...this.models.values()];
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
