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
