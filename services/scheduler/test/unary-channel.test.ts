import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { ServingError } from '@maas/errors';
import { UnaryChannel } from '../src/cluster/unary-channel.js';

const identity = (bytes: Buffer) => bytes;
const method = (path: string) => ({ path, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity });
const MAX = 1 << 20;
const options = { maxMessageBytes: MAX, keepaliveMs: 2000 };
const failedWith = (code: grpc.status, pattern?: RegExp) => (error: unknown) =>
  error instanceof ServingError && error.code === code && (!pattern || pattern.test(error.message));

/** A grpc-js server (what workers and the registry run) answering with raw bytes. */
async function startServer(port = 0) {
  const seen: Array<{ metadata: grpc.Metadata; deadline: number }> = [];
  let cancelled = 0;
  const server = new grpc.Server();
  server.addService(
    { echo: method('/t.S/Echo'), fail: method('/t.S/Fail'), slow: method('/t.S/Slow'), big: method('/t.S/Big') },
    {
      echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        seen.push({ metadata: call.metadata, deadline: Number(call.getDeadline()) });
        callback(null, call.request);
      },
      fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
        callback({ code: grpc.status.NOT_FOUND, details: 'Servable not found: "ünï" at 100%, version 3' }),
      slow: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        call.on('cancelled', () => cancelled++);
        setTimeout(() => callback(null, call.request), 3000).unref();
      },
      big: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, Buffer.alloc(MAX + 1)),
    },
  );
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  );
  return { server, port: bound, seen, cancelled: () => cancelled };
}

/** A bare HTTP/2 server, for what a grpc-js server does not do on request: refuse a stream, drop a connection mid-call. */
async function startHttp2(onStream: (stream: http2.ServerHttp2Stream, sessions: number) => void) {
  let sessions = 0;
  const server = http2.createServer();
  server.on('session', () => sessions++);
  server.on('stream', (stream) => onStream(stream.on('error', () => {}), sessions));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, sessions: () => sessions };
}

function grpcAnswer(stream: http2.ServerHttp2Stream, message: Buffer): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  stream.end(Buffer.concat([prefix, message]));
}

describe('UnaryChannel against a grpc-js server', () => {
  let peer: Awaited<ReturnType<typeof startServer>>;
  let channel: UnaryChannel;
  before(async () => {
    peer = await startServer();
    channel = new UnaryChannel(`127.0.0.1:${peer.port}`, { ...options, security: { authorization: 'Bearer k1' } });
  });
  after(() => {
    channel.close();
    peer.server.forceShutdown();
  });

  test('a message comes back byte for byte, with the metadata, the key and the remaining deadline passed on', async () => {
    const request = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
    const deadline = Date.now() + 5000;
    const answers = await Promise.all([1, 2, 3].map(() => channel.call('/t.S/Echo', request, { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'x-maas-priority': '2' }, deadline)));
    for (const answer of answers) assert.ok(answer.equals(request));
    const { metadata, deadline: seenDeadline } = peer.seen.at(-1)!;
    assert.equal(metadata.get('authorization')[0], 'Bearer k1');
    assert.equal(metadata.get('x-maas-priority')[0], '2');
    assert.match(String(metadata.get('traceparent')[0]), /^00-0af7651916cd43dd8448eb211c80319c-/);
    // grpc-timeout is relative: the peer's clock starts when the call arrives, a connection set-up later.
    assert.ok(seenDeadline <= deadline + 200 && seenDeadline > deadline - 1000, `worker deadline ${seenDeadline - deadline} ms off`);
    assert.ok((await channel.call('/t.S/Echo', Buffer.alloc(0), {}, deadline)).length === 0, 'an empty message is a message');
  });

  test("the peer's status and percent-encoded details come back as a ServingError", async () => {
    await assert.rejects(channel.call('/t.S/Fail', Buffer.from('x'), {}, Date.now() + 5000), (error: ServingError) => {
      assert.equal(error.code, grpc.status.NOT_FOUND);
      assert.equal(error.message, 'Servable not found: "ünï" at 100%, version 3');
      return true;
    });
    await assert.rejects(channel.call('/t.S/Nope', Buffer.from('x'), {}, Date.now() + 5000), failedWith(grpc.status.UNIMPLEMENTED));
  });

  test('the deadline ends the call with DEADLINE_EXCEEDED on time, and the peer sees it cancelled', async () => {
    const started = Date.now();
    await assert.rejects(channel.call('/t.S/Slow', Buffer.from('x'), {}, started + 200), failedWith(grpc.status.DEADLINE_EXCEEDED));
    const took = Date.now() - started;
    assert.ok(took >= 190 && took < 1000, `took ${took} ms`);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(peer.cancelled(), 1);
    await assert.rejects(channel.call('/t.S/Echo', Buffer.from('x'), {}, Date.now() - 1), failedWith(grpc.status.DEADLINE_EXCEEDED));
  });

  test('messages over the size limit are refused either way with RESOURCE_EXHAUSTED', async () => {
    await assert.rejects(channel.call('/t.S/Echo', Buffer.alloc(MAX + 1), {}, Date.now() + 5000), failedWith(grpc.status.RESOURCE_EXHAUSTED, /Sent message larger than max/));
    await assert.rejects(channel.call('/t.S/Big', Buffer.from('x'), {}, Date.now() + 5000), failedWith(grpc.status.RESOURCE_EXHAUSTED, /Received message larger than max/));
    assert.ok((await channel.call('/t.S/Echo', Buffer.from('still fine'), {}, Date.now() + 5000)).equals(Buffer.from('still fine')));
  });
});

test('no peer is UNAVAILABLE; once it listens (again), the next call connects', async () => {
  const first = await startServer();
  const port = first.port;
  const channel = new UnaryChannel(`127.0.0.1:${port}`, options);
  try {
    assert.ok((await channel.call('/t.S/Echo', Buffer.from('a'), {}, Date.now() + 5000)).equals(Buffer.from('a')));
    await new Promise<void>((resolve) => first.server.tryShutdown(() => resolve()));
    await assert.rejects(channel.call('/t.S/Echo', Buffer.from('b'), {}, Date.now() + 5000), failedWith(grpc.status.UNAVAILABLE, new RegExp(`127.0.0.1:${port}`)));
    const second = await startServer(port);
    try {
      assert.ok((await channel.call('/t.S/Echo', Buffer.from('c'), {}, Date.now() + 5000)).equals(Buffer.from('c')));
    } finally {
      second.server.forceShutdown();
    }
  } finally {
    channel.close();
  }
});

test('a stream the peer refused unprocessed (a draining worker) is sent once more on a new connection', async () => {
  let streams = 0;
  const peer = await startHttp2((stream, sessions) => {
    streams++;
    if (sessions === 1) stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    else stream.on('data', () => {}).on('end', () => grpcAnswer(stream, Buffer.from('second try')));
  });
  const channel = new UnaryChannel(`127.0.0.1:${peer.port}`, options);
  try {
    // Five calls in flight when the first connection refuses them all: each is sent again, all on one new connection.
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => channel.call('/t.S/Echo', Buffer.from('x'), {}, Date.now() + 5000)));
    assert.deepEqual(answers.map(String), Array(5).fill('second try'));
    assert.deepEqual([streams, peer.sessions()], [10, 2]);
    // Only once: a peer that refuses everything is UNAVAILABLE, not a loop.
    const refusing = await startHttp2((stream) => stream.close(http2.constants.NGHTTP2_REFUSED_STREAM));
    const other = new UnaryChannel(`127.0.0.1:${refusing.port}`, options);
    await assert.rejects(other.call('/t.S/Echo', Buffer.from('x'), {}, Date.now() + 5000), failedWith(grpc.status.UNAVAILABLE));
    assert.equal(refusing.sessions(), 2);
    other.close();
    refusing.server.close();
  } finally {
    channel.close();
    peer.server.close();
  }
});

test('a peer that drops the connection mid-call (killed) fails the call with UNAVAILABLE, not a hang', async () => {
  const peer = await startHttp2((stream) => stream.session!.destroy());
  const channel = new UnaryChannel(`127.0.0.1:${peer.port}`, options);
  try {
    await assert.rejects(channel.call('/t.S/Echo', Buffer.from('x'), {}, Date.now() + 5000), failedWith(grpc.status.UNAVAILABLE));
  } finally {
    channel.close();
    peer.server.close();
  }
});

test('an answer without a gRPC status (not a gRPC peer) is mapped from its HTTP status', async () => {
  const peer = await startHttp2((stream) => {
    stream.respond({ ':status': 503 });
    stream.end();
  });
  const channel = new UnaryChannel(`127.0.0.1:${peer.port}`, options);
  try {
    await assert.rejects(channel.call('/t.S/Echo', Buffer.from('x'), {}, Date.now() + 5000), failedWith(grpc.status.UNAVAILABLE, /HTTP 503/));
  } finally {
    channel.close();
    peer.server.close();
  }
});
