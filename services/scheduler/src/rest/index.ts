export { startRestServer, stopRestServer, DEFAULT_MAX_REST_BODY_BYTES, DEFAULT_REST_TIMEOUT_MS, type RestPage, type RestPages, type RestServerOptions } from './rest-server.js';
