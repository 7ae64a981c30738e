import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { InvalidArgumentError, NotFoundError, asServingError, httpStatusFor, toGrpcError, truncateMessage } from '../src/index.js';

test('typed errors carry their gRPC code and keep their message', () => {
  const error = toGrpcError(new NotFoundError('Servable not found for request: Latest(m)'));
  assert.equal(error.code, status.NOT_FOUND);
  assert.equal(error.details, 'Servable not found for request: Latest(m)');
});

test('unknown errors become INTERNAL', () => {
  assert.equal(asServingError(new TypeError('boom')).code, status.INTERNAL);
  assert.equal(asServingError('text').message, 'text');
});

test('messages longer than 1024 characters are truncated as TF Serving does', () => {
  const long = 'x'.repeat(2000);
  assert.equal(truncateMessage(long), `${'x'.repeat(1024)}...TRUNCATED`);
  assert.equal(toGrpcError(new InvalidArgumentError(long)).details?.length, 1024 + '...TRUNCATED'.length);
  assert.equal(truncateMessage('short'), 'short');
});

test('HTTP codes follow TF Serving', () => {
  const expected: Array<[status, number]> = [
    [status.OK, 200], [status.CANCELLED, 499], [status.UNKNOWN, 500], [status.INVALID_ARGUMENT, 400],
    [status.DEADLINE_EXCEEDED, 504], [status.NOT_FOUND, 404], [status.ALREADY_EXISTS, 409],
    [status.PERMISSION_DENIED, 403], [status.RESOURCE_EXHAUSTED, 429], [status.FAILED_PRECONDITION, 400],
    [status.ABORTED, 409], [status.OUT_OF_RANGE, 400], [status.UNIMPLEMENTED, 501], [status.INTERNAL, 500],
    [status.UNAVAILABLE, 503], [status.DATA_LOSS, 500], [status.UNAUTHENTICATED, 401],
  ];
  for (const [code, http] of expected) assert.equal(httpStatusFor(code), http, `code ${code}`);
});
