import { Server, ServerCredentials, type ChannelOptions, type ServerInterceptor, type ServiceDefinition } from '@grpc/grpc-js';
import { instrumentServer, type GrpcHealth } from '@maas/telemetry';
import { tuneHeapForMessageBuffers } from './heap-tuning.js';
import { widenReceiveWindows } from './receive-window.js';

export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

export interface GrpcServerOptions {
  host: string;
  port: number;
  /** Largest request and response message, each way. */
  maxMessageBytes: number;
  /** Health of the server when it starts listening (default SERVING; a worker starts NOT_SERVING until its models load). */
  servingAtStart?: boolean;
  /** TLS and the checks run before every handler (built by @maas/auth); default: plaintext, no checks. */
  security?: GrpcServerSecurity;
}

/** What @maas/auth adds to a listener: credentials, interceptors, channel options, request screening. */
export interface GrpcServerSecurity {
  credentials: ServerCredentials;
  interceptors: ServerInterceptor[];
  channelOptions: ChannelOptions;
  /** Applied to each service before it is added (screens request bytes before they are decoded). */
  wrapService(definition: ServiceDefinition): ServiceDefinition;
}

/** Health of each running server, so stopping one reports NOT_SERVING while it drains. */
const healthOf = new WeakMap<Server, GrpcHealth>();

/**
 * A gRPC listener with the services `register` adds; resolves with the bound port (useful when
 * asked for port 0). Every server also answers grpc.health.v1.Health and server reflection, and
 * runs each unary call in a span continuing the caller's W3C trace context (`traceparent`). Its
 * connections take messages of 100s of KB without waiting on flow control (receive-window.ts), and
 * the process's heap is tuned for the message Buffers the server will churn (heap-tuning.ts).
 */
export async function startGrpcServer(
  register: (server: Server) => void,
  options: GrpcServerOptions,
): Promise<{ server: Server; port: number; health: GrpcHealth }> {
  tuneHeapForMessageBuffers();
  const security = options.security;
  const server = new Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
    // Nothing reads channelz; its per-call bookkeeping showed in the hot-path profile.
    'grpc.enable_channelz': 0,
    ...security?.channelOptions,
    interceptors: security?.interceptors,
  });
  if (security) {
    const addService = server.addService.bind(server);
    server.addService = (definition, implementation) => addService(security.wrapService(definition), implementation);
  }
  const { health, finish } = instrumentServer(server, options.servingAtStart ?? true);
  register(server);
  finish();
  healthOf.set(server, health);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, security?.credentials ?? ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  widenReceiveWindows(server);
  return { server, port, health };
}

/** Stops accepting calls and waits for in-flight ones, up to a grace period, then forces. */
export async function stopGrpcServer(server: Server, graceMs = 5000): Promise<void> {
  healthOf.get(server)?.drain();
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
