import {
  type Metadata,
  type MethodDefinition,
  type Server,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import {
  ClassificationResponse,
  GetModelMetadataResponse,
  GetModelStatusResponse,
  ModelServiceService,
  MultiInferenceResponse,
  PredictionServiceService,
  PredictResponse,
  RegressionResponse,
  ReloadConfigResponse,
} from '@maas/protos';
import { InvalidArgumentError, toGrpcError } from '@maas/errors';
import { recordGrpcCall } from '@maas/telemetry';
import { batchingHintsFrom } from '../batching-headers.js';
import type { CallContext, ServingBackend } from '../serving-backend.js';

/** A request body that did not parse: answered INVALID_ARGUMENT instead of grpc-js's INTERNAL. */
class UndecodableRequest {
  constructor(
    readonly method: string,
    readonly reason: string,
  ) {}
}

export type AnyMethod = MethodDefinition<unknown, unknown>;
type Encoder = { encode(message: never): { finish(): Uint8Array } };

/** Response message per method, encoded straight into a Buffer view (no second copy). */
const RESPONSES: Record<string, Encoder> = {
  predict: PredictResponse,
  classify: ClassificationResponse,
  regress: RegressionResponse,
  multiInference: MultiInferenceResponse,
  getModelMetadata: GetModelMetadataResponse,
  getModelStatus: GetModelStatusResponse,
  handleReloadConfigRequest: ReloadConfigResponse,
};

/**
 * The generated definition with two changes: decoding failures are caught (so malformed bytes get
 * INVALID_ARGUMENT naming the method), and responses are serialized without ts-proto's extra
 * Buffer.from copy of the encoded bytes.
 */
export function hardened(service: Record<string, AnyMethod>): ServiceDefinition {
  const definition: Record<string, AnyMethod> = {};
  for (const [key, method] of Object.entries(service)) {
    definition[key] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return method.requestDeserialize(bytes);
        } catch (error) {
          return new UndecodableRequest(method.path, error instanceof Error ? error.message : String(error));
        }
      },
      responseSerialize: RESPONSES[key]
        ? (value: unknown) => {
            const bytes = RESPONSES[key]!.encode(value as never).finish();
            return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          }
        : method.responseSerialize,
    };
  }
  return definition as ServiceDefinition;
}

/** The first value of a text metadata entry. */
export function metadataText(metadata: Metadata, name: string): string | undefined {
  const value = metadata.get(name)[0];
  return value === undefined ? undefined : value.toString();
}

/** Deadline and batching hints of the call; INVALID_ARGUMENT for malformed hint metadata. */
export function contextOf(call: ServerUnaryCall<unknown, unknown>): CallContext {
  const deadline = call.getDeadline();
  const millis = deadline instanceof Date ? deadline.getTime() : deadline;
  const hints = batchingHintsFrom((name) => metadataText(call.metadata, name));
  return Number.isFinite(millis) ? { deadline: millis, ...hints } : hints;
}

type BackendMethod = (request: never, context: CallContext) => Promise<unknown>;

/** A grpc-js unary handler around an async method; thrown ServingErrors become gRPC statuses. */
export function unary(handler: BackendMethod) {
  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
    const request = call.request;
    const started = performance.now();
    const answer =
      request instanceof UndecodableRequest
        ? Promise.reject(new InvalidArgumentError(`${request.method}: request is not a valid protobuf message: ${request.reason}`))
        : Promise.resolve().then(() => handler(request as never, contextOf(call)));
    answer.then(
      (response) => {
        recordGrpcCall(call.getPath(), request, response, 0, (performance.now() - started) / 1000);
        callback(null, response);
      },
      (error: unknown) => {
        const status = toGrpcError(error);
        recordGrpcCall(call.getPath(), request, undefined, status.code ?? 2, (performance.now() - started) / 1000);
        callback(status);
      },
    );
  };
}

export function addPredictionService(server: Server, backend: ServingBackend): void {
  const bind = (method: BackendMethod) => unary(method.bind(backend));
  server.addService(hardened(PredictionServiceService as unknown as Record<string, AnyMethod>), {
    predict: bind(backend.predict),
    classify: bind(backend.classify),
    regress: bind(backend.regress),
    multiInference: bind(backend.multiInference),
    getModelMetadata: bind(backend.getModelMetadata),
  } satisfies UntypedServiceImplementation);
}

export function addModelService(server: Server, backend: Pick<ServingBackend, 'getModelStatus' | 'reloadConfig'>): void {
  const bind = (method: BackendMethod) => unary(method.bind(backend));
  server.addService(hardened(ModelServiceService as unknown as Record<string, AnyMethod>), {
    getModelStatus: bind(backend.getModelStatus),
    handleReloadConfigRequest: bind(backend.reloadConfig),
  } satisfies UntypedServiceImplementation);
}

/** Registers PredictionService and ModelService, both answered by the backend. */
export function addServingServices(server: Server, backend: ServingBackend): void {
  addPredictionService(server, backend);
  addModelService(server, backend);
}
