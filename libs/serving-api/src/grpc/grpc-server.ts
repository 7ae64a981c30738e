import { Server, ServerCredentials } from '@grpc/grpc-js';

export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

export interface GrpcServerOptions {
  host: string;
  port: number;
  /** Largest request and response message, each way. */
  maxMessageBytes: number;
}

/**
 * A gRPC listener with the services `register` adds; resolves with the bound port (useful when
 * asked for port 0).
 */
export async function startGrpcServer(register: (server: Server) => void, options: GrpcServerOptions): Promise<{ server: Server; port: number }> {
  const server = new Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
  });
  register(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  return { server, port };
}

/** Stops accepting calls and waits for in-flight ones, up to a grace period, then forces. */
export async function stopGrpcServer(server: Server, graceMs = 5000): Promise<void> {
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
