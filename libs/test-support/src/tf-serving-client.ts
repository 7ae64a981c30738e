import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO_ROOT = fileURLToPath(new URL('../../../proto', import.meta.url));

/**
 * A TF Serving client the way generic tooling builds one: protobufjs loading the .proto files at
 * run time, snake_case fields, int64 as strings. It shares no code with the server's ts-proto
 * codec, so tests through it check the wire format, not our code against itself.
 */
export function loadTfServingClients(address: string) {
  const definition = protoLoader.loadSync(
    ['tensorflow_serving/apis/prediction_service.proto', 'tensorflow_serving/apis/model_service.proto'],
    { includeDirs: [PROTO_ROOT], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true },
  );
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    tensorflow: { serving: { PredictionService: grpc.ServiceClientConstructor; ModelService: grpc.ServiceClientConstructor } };
  };
  const options = { 'grpc.max_receive_message_length': 512 * 1024 * 1024, 'grpc.max_send_message_length': 512 * 1024 * 1024 };
  const credentials = grpc.credentials.createInsecure();
  const prediction = new loaded.tensorflow.serving.PredictionService(address, credentials, options);
  const model = new loaded.tensorflow.serving.ModelService(address, credentials, options);
  return { prediction, model, close: () => (prediction.close(), model.close()) };
}

export type UnaryError = grpc.ServiceError;

/** Calls a unary method of a dynamic client and resolves with its response (or rejects with the ServiceError). */
export function callUnary<T = Record<string, unknown>>(
  client: grpc.Client,
  method: string,
  request: unknown,
  options: { deadlineMs?: number } = {},
): Promise<T> {
  const fn = (client as unknown as Record<string, Function>)[method];
  if (typeof fn !== 'function') throw new Error(`no method ${method}`);
  const callOptions = options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {};
  return new Promise<T>((resolve, reject) => {
    fn.call(client, request, new grpc.Metadata(), callOptions, (error: grpc.ServiceError | null, response: T) =>
      error ? reject(error) : resolve(response),
    );
  });
}
