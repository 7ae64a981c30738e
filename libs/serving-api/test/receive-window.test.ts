import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { test } from 'node:test';
import { RECEIVE_WINDOW_BYTES, startGrpcServer, stopGrpcServer } from '../src/index.js';

test('a gRPC server advertises the wide receive window on every connection', async () => {
  const { server, port } = await startGrpcServer(() => {}, { host: '127.0.0.1', port: 0, maxMessageBytes: 1 << 20 });
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    const end = Date.now() + 5000;
    // The stream window comes as a second SETTINGS frame, the connection's as a WINDOW_UPDATE after it.
    while (session.remoteSettings.initialWindowSize !== RECEIVE_WINDOW_BYTES || (session.state.remoteWindowSize ?? 0) < RECEIVE_WINDOW_BYTES) {
      assert.ok(Date.now() < end, `window still ${session.remoteSettings.initialWindowSize} per stream, ${session.state.remoteWindowSize} for the connection`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    session.close();
    await stopGrpcServer(server);
  }
});
