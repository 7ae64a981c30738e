import type { Server } from '@grpc/grpc-js';
import {
  Code,
  ModelServerConfig,
  RegistryAdminService,
  type DescribeClusterResponse,
  type GetModelStatusRequest,
  type GetModelStatusResponse,
  type ReloadConfigRequest,
  type ReloadConfigResponse,
  type SetReplicasRequest,
  type SetReplicasResponse,
} from '@maas/protos';
import { DeadlineExceededError, InvalidArgumentError, NotFoundError } from '@maas/errors';
import {
  availableVersions,
  clusterModelStatus,
  profileStatuses,
  scalingPlacementFields,
  scalingSettingsFrom,
  scalingSettingsOf,
  shortageMessages,
  type ClusterState,
  type ReplicaRange,
  type StoredCatalog,
} from '@maas/cluster-state';
import { addModelService, hardened, startGrpcServer, stopGrpcServer, unary, type AnyMethod, type CallContext } from '@maas/serving-api';
import type { RoleSecurity } from '@maas/auth';
import { entriesFromConfig } from './model-entry.js';

export interface RegistryOptions {
  state: ClusterState;
  bindHost: string;
  advertiseHost: string;
  port: number;
  maxMessageBytes: number;
  /** Used when Redis holds no catalogue yet. */
  initialConfig?: ModelServerConfig;
  heartbeatMs: number;
  /** Auth, cluster mTLS and limits of the listener (an internal one: admin tools hold cluster certificates); default: none. */
  security?: RoleSecurity;
  log: (message: string) => void;
}

const DEFAULT_REPLICAS: ReplicaRange = { min: 1, max: 1 };
const RELOAD_WAIT_MS = 120_000;

/**
 * The registry: owns the catalogue (TF Serving's ModelServerConfig plus replica ranges), keeps it
 * in Redis, and re-writes it there if Redis lost it (restart without persistence). Serves
 * ModelService for the cluster and the RegistryAdmin API.
 */
export class Registry {
  private catalog: StoredCatalog;
  private timer?: NodeJS.Timeout;
  private server?: Server;
  port = 0;

  constructor(private readonly options: RegistryOptions) {
    this.catalog = { revision: 0, config: '', replicas: {} };
  }

  async start(): Promise<void> {
    const stored = await this.options.state.catalog();
    if (stored) this.catalog = stored;
    else this.replaceCatalog(this.options.initialConfig ?? { modelConfigList: { config: [] } });
    await this.options.state.writeCatalog(this.catalog);
    const grpc = await startGrpcServer((server) => this.register(server), {
      host: this.options.bindHost,
      port: this.options.port,
      maxMessageBytes: this.options.maxMessageBytes,
      security: this.options.security?.grpcServer('internal'),
    });
    this.server = grpc.server;
    this.port = grpc.port;
    await this.heartbeat();
  }

  private register(server: Server): void {
    addModelService(server, {
      getModelStatus: (request: GetModelStatusRequest) => this.getModelStatus(request),
      reloadConfig: (request: ReloadConfigRequest, context: CallContext) => this.reloadConfig(request, context),
    });
    server.addService(hardened(RegistryAdminService as unknown as Record<string, AnyMethod>), {
      setReplicas: unary((request: SetReplicasRequest) => this.setReplicas(request)),
      describeCluster: unary(() => this.describeCluster()),
    });
  }

  /** Advertises this registry and restores the catalogue if Redis came back empty. */
  private async heartbeat(): Promise<void> {
    try {
      const address = `${this.options.advertiseHost}:${this.port}`;
      await this.options.state.advertiseRegistry(address, this.options.heartbeatMs * 3);
      const stored = await this.options.state.catalog();
      if (!stored || stored.revision < this.catalog.revision) {
        this.options.log('catalogue missing from Redis: writing it back');
        await this.options.state.writeCatalog(this.catalog);
      }
    } catch (error) {
      this.options.log(`registry heartbeat failed: ${(error as Error).message}`);
    }
    this.timer = setTimeout(() => void this.heartbeat(), this.options.heartbeatMs);
  }

  /** Validates a config and makes it the new catalogue, keeping replica ranges of models that stay. */
  private replaceCatalog(config: ModelServerConfig): void {
    const entries = entriesFromConfig(config);
    const replicas = Object.fromEntries(entries.map((e) => [e.name, this.catalog.replicas[e.name] ?? DEFAULT_REPLICAS]));
    this.catalog = { revision: this.catalog.revision + 1, config: Buffer.from(ModelServerConfig.encode(config).finish()).toString('base64'), replicas };
  }

  async getModelStatus(request: GetModelStatusRequest): Promise<GetModelStatusResponse> {
    return clusterModelStatus(await this.options.state.liveWorkers(), request.modelSpec);
  }

  /** Replaces the catalogue, then waits until every model in it has a ready replica. */
  async reloadConfig(request: ReloadConfigRequest, context: CallContext): Promise<ReloadConfigResponse> {
    this.replaceCatalog(request.config ?? {});
    await this.options.state.writeCatalog(this.catalog);
    const names = entriesFromConfig(request.config!).map((e) => e.name);
    const deadline = context.deadline ?? Date.now() + RELOAD_WAIT_MS;
    for (;;) {
      const workers = await this.options.state.liveWorkers();
      const waiting = names.filter((name) => !workers.some((w) => availableVersions(w, name).length > 0));
      if (waiting.length === 0) break;
      if (Date.now() >= deadline) throw new DeadlineExceededError(`Deadline exceeded waiting for ${waiting.join(', ')} to become available`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return { status: { errorCode: Code.OK, errorMessage: '' }, metric: request.metricNames.map((name) => ({ name, int64ValueIncrease: 0n })) };
  }

  async setReplicas(request: SetReplicasRequest): Promise<SetReplicasResponse> {
    if (!(request.model in this.catalog.replicas)) throw new NotFoundError(`Model ${request.model} is not in the catalogue`);
    if (request.minReplicas > request.maxReplicas) {
      throw new InvalidArgumentError(`min_replicas (${request.minReplicas}) must not exceed max_replicas (${request.maxReplicas})`);
    }
    if (request.scaling?.targetInFlight !== undefined && !(request.scaling.targetInFlight > 0)) {
      throw new InvalidArgumentError(`target_in_flight must be positive; got ${request.scaling.targetInFlight}`);
    }
    // Autoscaling settings not sent stay as they were.
    const settings = request.scaling ? scalingSettingsFrom(request.scaling) : scalingSettingsOf(this.catalog.replicas[request.model]!);
    this.catalog = {
      ...this.catalog,
      revision: this.catalog.revision + 1,
      replicas: { ...this.catalog.replicas, [request.model]: { ...settings, min: request.minReplicas, max: request.maxReplicas } },
    };
    await this.options.state.writeCatalog(this.catalog);
    return {};
  }

  async describeCluster(): Promise<DescribeClusterResponse> {
    const workers = await this.options.state.liveWorkers();
    const [assignments, scaling] = await Promise.all([this.options.state.assignments(workers.map((w) => w.id)), this.options.state.scalingStatus()]);
    return {
      workers: workers.map((w) => ({
        id: w.id,
        address: w.address,
        cores: w.capacity.cores,
        memoryBytes: BigInt(w.capacity.memoryBytes),
        providers: w.capacity.providers,
        inFlight: w.inFlight,
        draining: w.draining,
        readyModels: w.models.filter((m) => availableVersions(w, m.name).length > 0).map((m) => m.name),
        profiles: profileStatuses(w),
      })),
      models: Object.entries(this.catalog.replicas).map(([name, range]) => ({
        name,
        minReplicas: range.min,
        maxReplicas: range.max,
        workers: Object.entries(assignments).filter(([, names]) => names.includes(name)).map(([id]) => id),
        readyReplicas: workers.filter((w) => availableVersions(w, name).length > 0).length,
        ...scalingPlacementFields(scaling, name, range),
      })),
      missingWorkers: shortageMessages(scaling),
      removableWorkers: scaling?.removableWorkers ?? [],
    };
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    if (this.server) await stopGrpcServer(this.server);
  }
}
