import type { ModelLoad, ScalingSettings, VersionProfile } from './scaling-types.js';

/** What a worker can run, reported when it registers. */
export interface WorkerCapacity {
  cores: number;
  memoryBytes: number;
  /** onnxruntime execution providers usable here, e.g. ['cpu'] or ['webgpu', 'cpu']. */
  providers: string[];
  /** Total memory of this worker's GPUs (0 without one). */
  gpuMemoryBytes: number;
}

export interface VersionReport {
  version: number;
  /** TF Serving's ModelVersionStatus.State number. */
  state: number;
  error?: { code: number; message: string };
  /** Resident memory the load added, measured around it. */
  memoryBytes: number;
  /** GPU memory the load added (driver's numbers), 0 on cpu. */
  gpuMemoryBytes: number;
  /** Execution provider it runs on. */
  provider: string;
  /** What the vertical profiler chose for this version here, when it ran. */
  profile?: VersionProfile;
  /** `sha256:<hex>` of the model file this worker loaded, so copies on different workers can be compared. */
  contentHash?: string;
}

export interface ModelReport {
  name: string;
  versions: VersionReport[];
  /** Epoch ms of the last request, for least-recently-used eviction. */
  lastUsedAt: number;
  /** Load counters for the autoscaler. */
  load?: ModelLoad;
}

/** A worker's heartbeat: who it is, where it listens, what it holds. Expires unless renewed. */
export interface WorkerReport {
  id: string;
  /** host:port of its PredictionService. */
  address: string;
  capacity: WorkerCapacity;
  models: ModelReport[];
  inFlight: number;
  startedAt: number;
  reportedAt: number;
  /** How long this report stands without renewal (its Redis TTL). */
  ttlMs: number;
  /** True while it drains for shutdown: route nothing new to it. */
  draining: boolean;
}

/** Per-model settings the registry keeps beyond TF Serving's ModelConfig: replica range and autoscaling. */
export interface ReplicaRange extends ScalingSettings {
  min: number;
  max: number;
}

/** The registry's catalogue as stored: the TF Serving config plus our per-model settings. */
export interface StoredCatalog {
  revision: number;
  /** Base64 of the encoded ModelServerConfig, so the stored form is the wire form. */
  config: string;
  replicas: Record<string, ReplicaRange>;
}

/** Worker id -> names of the models placed on it. */
export type Assignments = Record<string, string[]>;
