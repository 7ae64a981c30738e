import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import * as grpc from '@grpc/grpc-js';

const identity = (bytes: Buffer) => bytes;

/** The outcome of one call: the response bytes, or the status it ended with. */
export type RawOutcome = { ok: true; bytes: Buffer } | { ok: false; code: grpc.status; details: string };

export interface RawCallOptions {
  authorization?: string;
  deadlineMs?: number;
}

/**
 * A client that sends already-encoded requests to any method path: the same bytes for every
 * service, so tests (and the fuzzer) can call methods of every role, valid or not.
 */
export class RawClient {
  readonly client: grpc.Client;

  constructor(address: string, credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(), options: grpc.ClientOptions = {}) {
    this.client = new grpc.Client(address, credentials, { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1, ...options });
  }

  call(path: string, request: Uint8Array, options: RawCallOptions = {}): Promise<RawOutcome> {
    const metadata = new grpc.Metadata();
    if (options.authorization) metadata.set('authorization', options.authorization);
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(path, identity, identity, Buffer.from(request), metadata, { deadline: Date.now() + (options.deadlineMs ?? 10_000) }, (error, response) =>
        resolve(error ? { ok: false, code: error.code, details: error.details } : { ok: true, bytes: response! }),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

export const codeName = (code: number) => grpc.status[code] ?? String(code);

/** The payloads of every length-delimited occurrence of `field` in a message's bytes (other fields skipped). */
function* lengthDelimited(bytes: Uint8Array, field: number): Generator<Uint8Array> {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [number, wire] = reader.tag();
    if (number === field) yield reader.bytes();
    else reader.skip(wire, number);
  }
}

/**
 * The services a server lists through gRPC server reflection (v1): ServerReflectionRequest with
 * list_services (field 7), answered by list_services_response (6) of ServiceResponse names.
 */
export function listServices(raw: RawClient, authorization?: string): Promise<string[]> {
  const metadata = new grpc.Metadata();
  if (authorization) metadata.set('authorization', authorization);
  const call = raw.client.makeBidiStreamRequest('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', identity, identity, metadata, { deadline: Date.now() + 10_000 });
  return new Promise((resolve, reject) => {
    call.once('data', (bytes: Buffer) => {
      const names: string[] = [];
      for (const list of lengthDelimited(bytes, 6)) {
        for (const service of lengthDelimited(list, 1)) {
          for (const name of lengthDelimited(service, 1)) names.push(new TextDecoder().decode(name));
        }
      }
      call.end();
      resolve(names);
    });
    call.once('error', (error: grpc.ServiceError) => reject(new Error(`${codeName(error.code)}: ${error.details}`)));
    call.write(Buffer.from(new BinaryWriter().uint32((7 << 3) | WireType.LengthDelimited).string('*').finish()));
  });
}
