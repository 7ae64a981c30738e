import { fileURLToPath } from 'node:url';
import { context } from '@opentelemetry/api';
import type { handleUnaryCall, Server, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { HealthImplementation, protoPath as HEALTH_PROTO } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import { startServerSpan } from './tracing.js';

const PROTO_ROOT = fileURLToPath(new URL('../../../proto', import.meta.url));
/** Every service a MaaS role may serve, for reflection (our own .proto files, read at run time). */
const SERVICE_PROTOS = [
  'tensorflow_serving/apis/prediction_service.proto',
  'tensorflow_serving/apis/model_service.proto',
  'maas/admin/v1/registry_admin.proto',
  'maas/batch/v1/batch.proto',
];
const HEALTH_SERVICE = 'grpc.health.v1.Health';

let packageDefinition: PackageDefinition | undefined;

function servicePackage(): PackageDefinition {
  return (packageDefinition ??= loadSync([...SERVICE_PROTOS, HEALTH_PROTO], { includeDirs: [PROTO_ROOT], keepCase: true, longs: String, enums: String, defaults: true }));
}

/** `/tensorflow.serving.PredictionService/Predict` -> `tensorflow.serving.PredictionService`. */
function serviceNameOf(definition: ServiceDefinition): string | undefined {
  const first = Object.values(definition)[0] as { path?: string } | undefined;
  return first?.path ? /^\/([^/]+)\//.exec(first.path)?.[1] : undefined;
}

/** Wraps unary handlers so each call runs in a SERVER span continuing the caller's W3C trace context. */
function traced(definition: ServiceDefinition, implementation: UntypedServiceImplementation): UntypedServiceImplementation {
  const wrapped: UntypedServiceImplementation = { ...implementation };
  for (const [key, method] of Object.entries(definition)) {
    const handler = implementation[key] as handleUnaryCall<unknown, unknown> | undefined;
    if (!handler || method.requestStream || method.responseStream) continue;
    const unary: handleUnaryCall<unknown, unknown> = (call, callback) => {
      const span = startServerSpan(method.path, call.metadata);
      context.with(span.context, () =>
        handler(call, (error, value, trailer, flags) => {
          span.end(error);
          callback(error, value, trailer, flags);
        }),
      );
    };
    wrapped[key] = unary;
  }
  return wrapped;
}

/**
 * grpc.health.v1.Health of one server. The overall status ('') and each registered service's name,
 * full and short (`tensorflow.serving.PredictionService` and `PredictionService`, as TF Serving
 * users probe), move together; per-model names are set on their own.
 */
export class GrpcHealth {
  readonly implementation = new HealthImplementation();
  private readonly serviceNames = new Set<string>(['']);
  private readonly modelNames = new Set<string>();
  /** Last status set per name: Watch streams hear only changes. */
  private readonly statuses = new Map<string, 'SERVING' | 'NOT_SERVING'>();
  private serving: boolean;
  private draining = false;

  constructor(servingAtStart: boolean) {
    this.serving = servingAtStart;
    this.set('', servingAtStart);
  }

  private set(name: string, serving: boolean): void {
    const status = serving && !this.draining ? 'SERVING' : 'NOT_SERVING';
    if (this.statuses.get(name) === status) return;
    this.statuses.set(name, status);
    this.implementation.setStatus(name, status);
  }

  addService(fullName: string): void {
    for (const name of [fullName, fullName.slice(fullName.lastIndexOf('.') + 1)]) {
      this.serviceNames.add(name);
      this.set(name, this.serving);
    }
  }

  /** Overall readiness (a draining server never turns SERVING again). */
  setServing(serving: boolean): void {
    this.serving = serving;
    for (const name of this.serviceNames) this.set(name, serving);
  }

  /** One model's readiness, under the model's name. */
  setModel(model: string, ready: boolean): void {
    this.modelNames.add(model);
    this.set(model, ready);
  }

  get models(): ReadonlySet<string> {
    return this.modelNames;
  }

  /** Everything NOT_SERVING, for good: the server is shutting down. */
  drain(): void {
    this.draining = true;
    for (const name of [...this.serviceNames, ...this.modelNames]) this.set(name, false);
  }
}

/**
 * Prepares a server before its services are registered: every unary handler added afterwards is
 * traced, and `finish()` adds grpc.health.v1.Health and server reflection listing what was added.
 */
export function instrumentServer(server: Server, servingAtStart = true): { health: GrpcHealth; finish: () => void } {
  const health = new GrpcHealth(servingAtStart);
  const registered: string[] = [];
  const addService = server.addService.bind(server);
  server.addService = (definition, implementation) => {
    const name = serviceNameOf(definition);
    if (name) {
      registered.push(name);
      health.addService(name);
    }
    addService(definition, traced(definition, implementation));
  };
  return {
    health,
    finish: () => {
      server.addService = addService;
      health.implementation.addToServer(server);
      new ReflectionService(servicePackage(), { services: [...registered, HEALTH_SERVICE] }).addToServer(server);
    },
  };
}
