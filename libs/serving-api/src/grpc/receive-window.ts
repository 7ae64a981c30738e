import type { EventEmitter } from 'node:events';
import type { ServerHttp2Session } from 'node:http2';
import type { Server } from '@grpc/grpc-js';

/** HTTP/2 receive window of each connection and of each stream on it, on maas's servers and on the scheduler's channel to workers. */
export const RECEIVE_WINDOW_BYTES = 4 << 20;

/**
 * Advertises RECEIVE_WINDOW_BYTES on every connection the server accepts. Node's default is 65,535
 * bytes for the connection and for each stream, so a client sending a 100 KB message waited for a
 * WINDOW_UPDATE round trip (through the scheduler twice: at the front door and at the worker),
 * 0.15–0.3 ms of the hop's p50 at one client (docs/performance.md, Cluster). grpc-js 1.14 has no
 * server option for it (`grpc-node.flow_control_window` is read by its channels only; the open
 * grpc-node PR #3058 would add it to servers), so the sessions are reached through the server's
 * HTTP/2 listeners, a private field: should an upgrade rename it, only the window is lost
 * (receive-window.test.ts notices).
 */
export function widenReceiveWindows(server: Server, bytes = RECEIVE_WINDOW_BYTES): void {
  const listeners = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(listeners instanceof Map)) return;
  for (const listener of listeners.keys() as IterableIterator<EventEmitter>) {
    listener.on('session', (session: ServerHttp2Session) => {
      try {
        session.settings({ initialWindowSize: bytes });
        session.setLocalWindowSize(bytes);
      } catch {
        // The connection closed as it opened: nothing to widen.
      }
    });
  }
}
