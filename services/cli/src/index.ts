export * from './child-role.js';
export * from './local-redis.js';
