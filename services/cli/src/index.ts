export * from './child-role.js';
