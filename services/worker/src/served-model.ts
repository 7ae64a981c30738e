import { asServingError, InvalidArgumentError, NotFoundError } from '@maas/errors';
import { OnnxModel, type RuntimeOptions } from '@maas/onnx-runtime';
import { sharedModelStore } from '@maas/model-store';
import type { ModelEntry } from '@maas/registry';
import { recordModelLoad, trackLoadedVersion, type LogFields } from '@maas/telemetry';
import { describeServableRequest, type VersionChoice } from '@maas/serving-api';
import { ModelVersion, VersionState } from './model-version.js';
import { selectVersions } from './version-policy.js';
import { gpuMemoryUsed } from './devices.js';
import { runtimeOptionsFor } from './model-runtime-file.js';
import type { VersionTuner } from './profiling/vertical-profiler.js';
import { runnerFor, type BatchingConfig, type VersionRunner } from './version-runner.js';
import { loadWithRetries, NO_LOAD_RETRIES, type LoadRetryPolicy } from './load-retries.js';

export interface LeasedVersion {
  version: ModelVersion;
  model: OnnxModel;
  runner: VersionRunner;
  release: () => void;
}

/**
 * All versions of one model on this worker. reconcile() moves it towards the versions its policy
 * wants, availability first: new versions load before unwanted ones unload, and an unload waits
 * for the requests still using it.
 */
export class ServedModel {
  /** Every version ever tracked, including ended ones (GetModelStatus reports them). */
  readonly versions = new Map<number, ModelVersion>();
  /** Label -> version; applied only after validation against what is loaded (see ModelHost.applyLabels). */
  labels: Record<string, number> = {};
  /** Epoch ms of the last lease, for least-recently-used eviction. */
  lastUsedAt = Date.now();
  private reconciling: Promise<void> = Promise.resolve();
  /** Stops reporting a loaded version to the memory and queue-depth gauges, by version. */
  private readonly untrackGauges = new Map<number, () => void>();
  /** Cuts short the waits between load retries once the model is unloaded. */
  private readonly unloaded = new AbortController();

  constructor(
    public entry: ModelEntry,
    private readonly runtimeOptions: RuntimeOptions,
    private readonly batching: BatchingConfig | undefined,
    private readonly log: (message: string, fields?: LogFields) => void,
    /** Vertical profiling: picks this worker's runtime and batch size for each version before it loads. */
    private readonly tune?: VersionTuner,
    private readonly loadRetries: LoadRetryPolicy = NO_LOAD_RETRIES,
  ) {}

  get name(): string {
    return this.entry.name;
  }

  availableVersions(): ModelVersion[] {
    return [...this.versions.values()].filter((v) => v.state === VersionState.AVAILABLE);
  }

  /** Serialized so two polls never load the same version twice. */
  reconcile(present: Map<number, string>): Promise<void> {
    this.reconciling = this.reconciling.then(() => this.reconcileNow(present));
    return this.reconciling;
  }

  private async reconcileNow(present: Map<number, string>): Promise<void> {
    const wanted = new Set(selectVersions(this.entry.policy, present.keys()));
    const toLoad = [...wanted].filter((v) => {
      const known = this.versions.get(v);
      // A version that failed stays failed until its directory goes away and comes back.
      return !known || (known.state === VersionState.END && !known.error);
    });
    await Promise.all(toLoad.map((v) => this.load(v, present.get(v)!)));
    for (const known of this.versions.values()) {
      if (known.state === VersionState.END && known.error && !present.has(known.version)) this.versions.delete(known.version);
    }
    const unwanted = this.availableVersions().filter((v) => !wanted.has(v.version));
    // Never unload the last available version for a replacement that failed to load.
    const keepsServing = this.availableVersions().some((v) => wanted.has(v.version));
    if (keepsServing) await Promise.all(unwanted.map((v) => this.unload(v)));
  }

  private async load(versionNumber: number, file: string): Promise<void> {
    const version = new ModelVersion(this.name, versionNumber, file);
    this.versions.set(versionNumber, version);
    version.state = VersionState.LOADING;
    const fields = { model: this.name, version: versionNumber };
    const started = performance.now();
    try {
      // A transient fault (a download cut short, memory briefly short) gets another try; the version stays LOADING meanwhile.
      await loadWithRetries(() => this.loadOnce(version, file), this.loadRetries, this.unloaded.signal, (error, retry) =>
        this.log(
          `failed to load ${version.label} (${asServingError(error).message}); retry ${retry} of ${this.loadRetries.maxRetries} in ${this.loadRetries.intervalMs} ms`,
          fields,
        ),
      );
      version.state = VersionState.AVAILABLE;
      recordModelLoad(this.name, versionNumber, (performance.now() - started) / 1000, true);
      const runner = version.runner!;
      this.untrackGauges.set(versionNumber, trackLoadedVersion({ ...fields, memoryBytes: version.memoryBytes, queuedRows: () => runner.queuedRows() }));
      this.log(`loaded ${version.label} from ${file}`, fields);
    } catch (error) {
      const failure = asServingError(error);
      version.error = { code: failure.code, message: failure.message };
      version.state = VersionState.END;
      recordModelLoad(this.name, versionNumber, (performance.now() - started) / 1000, false);
      this.log(`failed to load ${version.label}: ${failure.message}`, fields);
    }
  }

  /** One attempt: fetch, (profile,) open, warm and measure the version; releases what it opened when it fails. */
  private async loadOnce(version: ModelVersion, file: string): Promise<void> {
    const runtime = await runtimeOptionsFor(this.entry.basePath, this.runtimeOptions);
    // onnxruntime opens local files: a remote model is downloaded first (or found in the cache).
    const local = await sharedModelStore().materialize(file);
    version.contentHash = local.contentHash;
    const tuned = await this.tune?.({ file: local.path, label: version.label, basePath: this.entry.basePath, runtime, batching: this.batching });
    const before = process.memoryUsage().rss;
    const gpuBefore = await gpuMemoryUsed();
    const model = await OnnxModel.load(local.path, version.label, tuned?.runtime ?? runtime);
    try {
      await model.warm().catch((error: Error) => this.log(`warm-up of ${version.label} failed (serving anyway): ${error.message}`));
      version.memoryBytes = Math.max(0, process.memoryUsage().rss - before);
      if (gpuBefore !== undefined && model.provider !== 'cpu') version.gpuMemoryBytes = Math.max(0, ((await gpuMemoryUsed()) ?? 0) - gpuBefore);
      version.runner = await runnerFor(model, file, tuned?.batching ?? this.batching, { name: this.name, version: version.version });
      version.model = model;
    } catch (error) {
      await model.release();
      throw error;
    }
  }

  private async unload(version: ModelVersion): Promise<void> {
    version.state = VersionState.UNLOADING;
    this.untrackGauges.get(version.version)?.();
    this.untrackGauges.delete(version.version);
    await version.drain();
    await version.runner?.close();
    await version.model?.release();
    version.model = undefined;
    version.runner = undefined;
    version.state = VersionState.END;
    this.log(`unloaded ${version.label}`, { model: this.name, version: version.version });
  }

  /** Unloads every version (the model left the catalogue, or the server stops). */
  async unloadAll(): Promise<void> {
    this.unloaded.abort();
    await this.reconciling;
    await Promise.all(this.availableVersions().map((v) => this.unload(v)));
  }

  /** Resolves a version choice to an AVAILABLE version and leases it (shared/spec §6.1). */
  lease(choice: VersionChoice): LeasedVersion {
    let version: ModelVersion | undefined;
    if (choice.kind === 'latest') {
      version = this.availableVersions().reduce<ModelVersion | undefined>((best, v) => (!best || v.version > best.version ? v : best), undefined);
    } else {
      let number: number;
      if (choice.kind === 'label') {
        const labelled = this.labels[choice.label];
        if (labelled === undefined) throw new InvalidArgumentError(`Unrecognized servable version label: ${choice.label}`);
        number = labelled;
      } else {
        number = choice.version;
      }
      const candidate = this.versions.get(number);
      if (candidate?.state === VersionState.AVAILABLE) version = candidate;
      else throw new NotFoundError(`Servable not found for request: ${describeServableRequest({ name: this.name, choice: { kind: 'specific', version: number } })}`);
    }
    if (!version?.model || !version.runner) throw new NotFoundError(`Servable not found for request: ${describeServableRequest({ name: this.name, choice })}`);
    this.lastUsedAt = Date.now();
    return { version, model: version.model, runner: version.runner, release: version.lease() };
  }
}
