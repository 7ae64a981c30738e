import { status } from '@grpc/grpc-js';
import type { ModelSpec } from '@maas/protos';
import { InvalidArgumentError, NotFoundError, ServingError, UnavailableError } from '@maas/errors';
import { batchingHeaders, describeServableRequest, servableRequestFrom, type BatchingHints, type VersionChoice } from '@maas/serving-api';
import { injectIntoMetadata, SpanKind, withSpan } from '@maas/telemetry';
import type { ColdStart } from '../scaling/cold-start.js';
import { candidatesFor, OutstandingRequests, pickReplica, replicaLoad, ReplicaIndex, type Candidate } from './replica-picker.js';
import { UnaryChannel, type ChannelSecurity } from './unary-channel.js';
import type { WorkerView } from './worker-view.js';

/** Without a client deadline a call still ends: a hung worker must not hold a request forever. */
const DEFAULT_FORWARD_TIMEOUT_MS = 30_000;
/** Codes after which the same call is tried on another replica (the request is idempotent). */
const RETRYABLE = new Set([status.UNAVAILABLE, status.RESOURCE_EXHAUSTED]);
/** Ping period and ping timeout of each worker connection. */
const KEEPALIVE_MS = 2000;
/** A worker's batch queue being full is an answer, not a sign the worker is gone (libs/batching). */
const OVERLOAD_MESSAGE = /batch scheduling queue/;

export interface RouterOptions {
  maxMessageBytes: number;
  maxAttempts: number;
  log: (message: string) => void;
  /** Requests for a model scaled to zero wait for a replica (within their deadline) instead of failing. */
  coldStart?: ColdStart;
  /** mTLS and the service key for calls to workers and the registry (@maas/auth); default: plaintext, no key. */
  security?: ChannelSecurity;
}

/**
 * Sends encoded requests to a worker holding the model and returns the encoded response: tensors
 * are never decoded on this hop. Picks replicas by power of two choices, retries a failed worker's
 * call on another replica while the deadline allows, and passes the remaining deadline on.
 */
export class Router {
  private readonly channels = new Map<string, UnaryChannel>();
  private readonly outstanding = new OutstandingRequests();
  private readonly index = new ReplicaIndex();

  constructor(
    private readonly view: WorkerView,
    private readonly options: RouterOptions,
  ) {}

  async forward(path: string, request: Buffer, spec: ModelSpec | undefined, deadline?: number, hints: BatchingHints = {}): Promise<Buffer> {
    const servable = servableRequestFrom(spec);
    const entry = this.view.catalog.get(servable.name);
    if (!entry) throw new NotFoundError(`Servable not found for request: ${describeServableRequest(servable)}`);
    const choice = this.resolveLabel(servable.name, servable.choice, entry.labels);
    const end = deadline ?? Date.now() + DEFAULT_FORWARD_TIMEOUT_MS;
    let candidates = this.candidates(servable.name, choice);
    const coldStart = this.options.coldStart;
    if (candidates.length === 0 && coldStart?.appliesTo(this.view.storedCatalog?.replicas[servable.name])) {
      await coldStart.waitFor(servable.name, () => this.candidates(servable.name, { kind: 'latest' }).length > 0, end);
      candidates = this.candidates(servable.name, choice);
    }
    let lastError: ServingError | undefined;
    for (let attempt = 0; attempt < this.options.maxAttempts; attempt++) {
      const picked = this.pick(candidates, servable.name);
      if (!picked) break;
      try {
        return await this.call(picked, path, request, end, hints);
      } catch (error) {
        const failure = error as ServingError;
        // NOT_FOUND from a worker the view says holds the model: it has just unloaded it; others may not have.
        const stale = failure.code === status.NOT_FOUND && candidates.length > 1;
        if ((!RETRYABLE.has(failure.code) && !stale) || Date.now() >= end) throw failure;
        lastError = failure;
        this.options.log(`retrying ${path} for ${servable.name} elsewhere: ${picked.worker.id} answered ${failure.message}`);
        candidates = candidates.filter((c) => c !== picked);
      }
    }
    if (lastError) throw lastError;
    throw this.noReplica(servable.name, choice);
  }

  /** One routing decision, as a `route` span naming the candidates, the two weighed, the one chosen and why. */
  private pick(candidates: readonly Candidate[], model: string): Candidate | undefined {
    return withSpan('route', (span) => {
      let weighed: readonly Candidate[] = candidates;
      const picked = pickReplica(candidates, this.outstanding, Math.random, (sampled) => (weighed = sampled));
      if (span.isRecording()) {
        const load = (c: Candidate) => replicaLoad(c, this.outstanding).toFixed(2);
        span.setAttributes({
          'maas.model': model,
          'maas.route.candidates': candidates.map((c) => `${c.worker.id} version=${c.version} load_per_core=${load(c)}`),
          'maas.route.weighed': weighed.map((c) => c.worker.id),
          'maas.route.chosen': picked?.worker.id ?? '',
          'maas.route.reason':
            candidates.length === 0
              ? 'no ready replica'
              : candidates.length === 1
                ? 'the only ready replica'
                : `power of two choices: lower load per core of the two sampled (${weighed.map(load).join(' vs ')})`,
        });
      }
      return picked;
    });
  }

  /** Routable workers with an AVAILABLE version of the model that satisfies the choice. */
  private candidates(name: string, choice: Exclude<VersionChoice, { kind: 'label' }>): Candidate[] {
    const holders = this.index.holders(this.view.workers, name).filter((w) => this.view.isRoutable(w));
    return candidatesFor(holders, name, choice);
  }

  private resolveLabel(name: string, choice: VersionChoice, labels: Record<string, number>): Exclude<VersionChoice, { kind: 'label' }> {
    if (choice.kind !== 'label') return choice;
    const version = labels[choice.label];
    if (version === undefined) throw new InvalidArgumentError(`Unrecognized servable version label: ${choice.label}`);
    return { kind: 'specific', version };
  }

  /** The version a label names in the catalogue this scheduler routes by (undefined if it names none). */
  labelledVersion(name: string, label: string): number | undefined {
    return this.view.catalog.get(name)?.labels[label];
  }

  /** No replica can take it: the version exists nowhere (NOT_FOUND) or nothing is ready yet (UNAVAILABLE). */
  private noReplica(name: string, choice: Exclude<VersionChoice, { kind: 'label' }>): ServingError {
    const anyReady = this.candidates(name, { kind: 'latest' }).length > 0;
    if (anyReady) return new NotFoundError(`Servable not found for request: ${describeServableRequest({ name, choice })}`);
    return new UnavailableError(`No ready replica of model ${name}: it is placed but not loaded yet, or its workers are gone; retry shortly`);
  }

  private channel(address: string): UnaryChannel {
    let channel = this.channels.get(address);
    if (!channel) {
      // Pings find a worker that stopped answering (hung, or its host gone) within seconds.
      channel = new UnaryChannel(address, { maxMessageBytes: this.options.maxMessageBytes, keepaliveMs: KEEPALIVE_MS, security: this.options.security });
      this.channels.set(address, channel);
    }
    return channel;
  }

  private async call(candidate: Candidate, path: string, request: Buffer, deadline: number, hints: BatchingHints): Promise<Buffer> {
    const id = candidate.worker.id;
    this.outstanding.add(id, 1);
    try {
      return await withSpan(`forward ${path.slice(1)}`, () => this.forwardTo(candidate.worker.address, path, request, deadline, hints), {
        kind: SpanKind.CLIENT,
        attributes: { 'rpc.system': 'grpc', 'maas.worker': id, 'server.address': candidate.worker.address, 'maas.version': candidate.version },
      });
    } catch (error) {
      const failure = error as ServingError;
      // A transport failure (not the worker's own overload answer) means the worker is gone for now.
      if (failure.code === status.UNAVAILABLE && !OVERLOAD_MESSAGE.test(failure.message)) this.view.suspect(id);
      throw failure;
    } finally {
      this.outstanding.add(id, -1);
    }
  }

  /** One unary call of encoded bytes to a given address, continuing the active trace and the batching hints; failures come back as ServingErrors. */
  forwardTo(address: string, path: string, request: Buffer, deadline = Date.now() + DEFAULT_FORWARD_TIMEOUT_MS, hints: BatchingHints = {}): Promise<Buffer> {
    const headers = injectIntoMetadata(new HeaderCarrier()).headers;
    for (const [name, value] of batchingHeaders(hints)) headers[name] = value;
    return this.channel(address).call(path, request, headers, deadline);
  }

  close(): void {
    for (const channel of this.channels.values()) channel.close();
  }
}

/** Outgoing headers as the trace propagator writes them (it expects grpc-js Metadata's shape). */
class HeaderCarrier {
  readonly headers: Record<string, string> = {};
  get(key: string): string[] {
    const value = this.headers[key];
    return value === undefined ? [] : [value];
  }
  set(key: string, value: string): void {
    this.headers[key] = value;
  }
  getMap(): Record<string, string> {
    return this.headers;
  }
}
