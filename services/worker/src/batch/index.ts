export * from './batch-consumer.js';
