import { Agent, request as httpRequest } from 'node:http';
import { credentials, Metadata, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { PredictionServiceClient, PredictionServiceService, PredictResponse } from '@maas/protos';
import type { Payload } from '../payloads.js';
import type { Workload } from '../workloads.js';
import type { TargetSpec } from './protocol.js';

/** The target does not offer the API at all; the row is skipped with this note, not failed. */
export class TargetUnavailable extends Error {}

/** Sends the one pre-encoded request of a job, over and over. */
export interface Sender {
  /** One request; rejects on any non-OK answer. */
  send(): Promise<void>;
  /** One request whose answer is checked; throws TargetUnavailable or a descriptive error. */
  probe(): Promise<void>;
  close(): void;
}

const MAX_MESSAGE_BYTES = 512 * 1024 * 1024;
const raw = (bytes: Buffer) => bytes;

function checkResponse(response: PredictResponse, workload: Workload, items: number): void {
  const output = response.outputs[workload.output];
  const dims = output?.tensorShape?.dim.map((d) => Number(d.size));
  const expected = [items, ...workload.outputItemShape];
  if (!dims || dims.join() !== expected.join()) {
    throw new Error(`expected output ${workload.output} of shape [${expected}], got ${dims ? `[${dims}]` : 'none'}`);
  }
}

function grpcSender(target: Extract<TargetSpec, { kind: 'grpc' }>, workload: Workload, payload: Payload, timeoutMs: number): Sender {
  // The generated client, but called with identity (de)serializers: the request is encoded once,
  // and responses are not decoded while measuring (the server's work is what is measured).
  const client = new PredictionServiceClient(target.address, credentials.createInsecure(), {
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  });
  const metadata = new Metadata();
  // The echo server answers with this many bytes, the size of maas's PredictResponse.
  if (target.echo) metadata.set('x-reply-bytes', String(payload.grpcResponseBytes));
  const call = () =>
    new Promise<Buffer>((resolve, reject) => {
      client.makeUnaryRequest(PredictionServiceService.predict.path, raw, raw, payload.grpcRequest, metadata, { deadline: Date.now() + timeoutMs }, (error, response) =>
        error || !response ? reject(error ?? new Error('empty response')) : resolve(response),
      );
    });
  return {
    send: async () => {
      await call();
    },
    async probe() {
      try {
        const bytes = await call();
        if (!target.echo) checkResponse(PredictResponse.decode(bytes), workload, payload.items);
      } catch (error) {
        const code = (error as Partial<ServiceError>).code;
        if (code === grpcStatus.UNIMPLEMENTED || code === grpcStatus.UNAVAILABLE) throw new TargetUnavailable(`gRPC: ${(error as Error).message}`);
        throw error;
      }
    },
    close: () => client.close(),
  };
}

function restSender(target: Extract<TargetSpec, { kind: 'rest' }>, workload: Workload, payload: Payload, timeoutMs: number): Sender {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const path = `/v1/models/${workload.model}:predict`;
  const post = () =>
    new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: target.host,
          port: target.port,
          path,
          method: 'POST',
          agent,
          timeout: timeoutMs,
          headers: { 'content-type': 'application/json', 'content-length': payload.restBody.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`REST request timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload.restBody);
    });
  const describe = (answer: { status: number; body: Buffer }) => `REST ${answer.status}: ${answer.body.subarray(0, 200).toString('utf8')}`;
  return {
    async send() {
      const answer = await post();
      if (answer.status !== 200) throw new Error(describe(answer));
    },
    async probe() {
      let answer: { status: number; body: Buffer };
      try {
        answer = await post();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') throw new TargetUnavailable('REST port refused the connection');
        throw error;
      }
      if (answer.status === 404) throw new TargetUnavailable(`REST answered 404 for POST ${path} (REST not served yet)`);
      if (answer.status !== 200) throw new Error(describe(answer));
      const predictions = (JSON.parse(answer.body.toString('utf8')) as { predictions?: unknown[] }).predictions;
      if (!Array.isArray(predictions) || predictions.length !== payload.items) throw new Error(`REST answer has no ${payload.items} predictions: ${describe(answer)}`);
    },
    close: () => agent.destroy(),
  };
}

export function createSender(target: TargetSpec, workload: Workload, payload: Payload, timeoutMs: number): Sender {
  return target.kind === 'grpc' ? grpcSender(target, workload, payload, timeoutMs) : restSender(target, workload, payload, timeoutMs);
}
