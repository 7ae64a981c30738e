import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tracesWanted } from '../src/index.js';

test('traces are on when the standard OTEL_* variables name an exporter or an OTLP endpoint, off otherwise', () => {
  assert.equal(tracesWanted({}), false, 'nothing configured: no SDK');
  assert.equal(tracesWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), true);
  assert.equal(tracesWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }), true);
  assert.equal(tracesWanted({ OTEL_TRACES_EXPORTER: 'console' }), true);
  assert.equal(tracesWanted({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), false);
  assert.equal(tracesWanted({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), false);
  assert.equal(tracesWanted({ OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), true);
});
