import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { RUN_TIMEOUT_MS } from '../../fuzz/target.js';
import { grpcMethodsTarget } from '../../fuzz/targets/grpc-methods.js';

/*
 * Every gRPC method of every role (serve, scheduler, worker, registry) against real processes:
 * fixed undecodable inputs for each method, then a CI budget of mutated requests.
 */

/** Bytes no request message decodes from, each breaking the wire format differently (an end-group or field-0 tag merely ends a message for ts-proto). */
const UNDECODABLE: Array<[string, number[]]> = [
  ['wire type 7', [0x0f]],
  ['wire type 6', [0x0e, 0x01]],
  ['length past the end', [0x0a, 0x7f, 0x01]],
  ['truncated varint', [0x08, 0x80]],
  ['sub-message past its end', [0x0a, 0x02, 0x0a, 0x05]],
];

function decodes(decode: (bytes: Buffer) => unknown, bytes: number[]): boolean {
  try {
    decode(Buffer.from(bytes));
    return true;
  } catch {
    return false;
  }
}

describe('fuzz: every method of every role', () => {
  let cluster: Awaited<ReturnType<typeof grpcMethodsTarget.setup>>;

  before(async () => {
    cluster = await grpcMethodsTarget.setup();
  });

  after(() => cluster && grpcMethodsTarget.teardown(cluster));

  test('bytes that are not a protobuf message get INVALID_ARGUMENT naming the method, on every method', async () => {
    const identity = (b: Buffer) => b;
    let checked = 0;
    for (const role of cluster.roles) {
      for (const method of role.methods) {
        for (const [what, bytes] of UNDECODABLE) {
          // Where field 1 is a string, the last case is a valid message.
          if (what === 'sub-message past its end' && decodes(method.decode, bytes)) continue;
          assert.throws(() => method.decode(Buffer.from(bytes)), `${method.path} ${what} must not decode`);
          const error = await new Promise<grpc.ServiceError | null>((resolve) =>
            role.client.makeUnaryRequest(method.path, identity, identity, Buffer.from(bytes), new grpc.Metadata(), { deadline: Date.now() + 5000 }, (e) => resolve(e)),
          );
          assert.equal(error?.code, grpc.status.INVALID_ARGUMENT, `${role.name} ${method.path} ${what}: ${error?.details}`);
          assert.ok(error.details.includes(method.path), `${role.name} ${method.path} ${what}: ${error.details}`);
          checked++;
        }
      }
    }
    // serve 7, scheduler 12, worker 5, registry 4 methods; all but a few take the last case too.
    assert.ok(checked > 28 * (UNDECODABLE.length - 1), `${checked} checks`);
  });

  test('mutated requests: undecodable ones INVALID_ARGUMENT, decodable ones never a server fault or a hang', async () => {
    const details = await fc.check(grpcMethodsTarget.property(cluster), { numRuns: 600, timeout: RUN_TIMEOUT_MS });
    assert.ok(!details.failed, `${fc.defaultReportMessage(details)}\n${String(details.errorInstance)}`);
  });
});
