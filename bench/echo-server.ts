// The transport limit: a bare grpc-js server on the PredictionService/Predict path that does no
// decoding and no compute. It answers with the request's own bytes, or with `x-reply-bytes` bytes
// (the size of the PredictResponse maas would send) when the client asks for that.
// Prints {"event":"ready","port":N} once listening; exits on SIGTERM/SIGINT.
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData, type ServiceDefinition } from '@grpc/grpc-js';
import { PredictionServiceService } from '@maas/protos';

const MAX_MESSAGE_BYTES = 512 * 1024 * 1024;
const raw = (bytes: Buffer) => bytes;

/** Replies are reused per size: allocating them per call would measure the allocator. */
const replies = new Map<number, Buffer>();
function replyOf(size: number): Buffer {
  let reply = replies.get(size);
  if (!reply) replies.set(size, (reply = Buffer.alloc(size)));
  return reply;
}

const service: ServiceDefinition = {
  predict: {
    path: PredictionServiceService.predict.path,
    requestStream: false,
    responseStream: false,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  },
};

function predict(call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void {
  const asked = Number(call.metadata.get('x-reply-bytes')[0]);
  callback(null, Number.isSafeInteger(asked) && asked >= 0 ? replyOf(asked) : call.request);
}

const server = new Server({ 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES, 'grpc.max_send_message_length': MAX_MESSAGE_BYTES });
server.addService(service, { predict });
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    console.error(error);
    process.exit(1);
  }
  console.log(JSON.stringify({ event: 'ready', port }));
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => server.tryShutdown(() => process.exit(0)));
