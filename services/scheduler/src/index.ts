export * from './grpc-server.js';
export * from './grpc-services.js';
