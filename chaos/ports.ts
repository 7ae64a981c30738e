import { once } from 'node:events';
import { createServer } from 'node:net';

/** A loopback port free right now, for a role that must come back on the same one after a restart. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
