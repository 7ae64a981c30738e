export * from './serving-backend.js';
export * from './model-spec.js';
export * from './grpc/grpc-server.js';
export { RECEIVE_WINDOW_BYTES } from './grpc/receive-window.js';
export * from './grpc/grpc-services.js';
export * from './batching-headers.js';
