import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROOT_CONTEXT, context, trace } from '@opentelemetry/api';
import { node } from '@opentelemetry/sdk-node';
import { createLogger, logLevelFromEnv } from '../src/index.js';

function capture(level: Parameters<typeof createLogger>[1]) {
  const lines: string[] = [];
  return { log: createLogger('worker', level, (line) => lines.push(line)), entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>), lines };
}

test('one JSON object per line: time, level, role, msg and the fields given', () => {
  const { log, entries, lines } = capture('info');
  log('loaded adder:1', { model: 'adder', version: 1 });
  log.warn('slow heartbeat');
  assert.ok(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n')));
  const [loaded, warned] = entries();
  assert.equal(typeof loaded!.time, 'string');
  assert.deepEqual({ ...loaded, time: undefined }, { time: undefined, level: 'info', role: 'worker', msg: 'loaded adder:1', model: 'adder', version: 1 });
  assert.equal(warned!.level, 'warn');
});

test('MAAS_LOG_LEVEL filters below it; unknown values mean info', () => {
  assert.equal(logLevelFromEnv({ MAAS_LOG_LEVEL: 'WARN' }), 'warn');
  assert.equal(logLevelFromEnv({ MAAS_LOG_LEVEL: 'chatty' }), 'info');
  assert.equal(logLevelFromEnv({}), 'info');
  const { log, entries } = capture('warn');
  log.debug('d');
  log('i');
  log.warn('w');
  log.error('e');
  assert.deepEqual(entries().map((e) => e.msg), ['w', 'e']);
});

test('secrets stay out: credential-like fields and passwords in URLs are redacted', () => {
  const { log, entries } = capture('info');
  log('Redis at redis://admin:hunter2@10.0.0.5:6379/0', { authorization: 'Bearer abc', api_key: 'k', model: 'm' });
  const [entry] = entries();
  assert.equal(entry!.msg, 'Redis at redis://admin:***@10.0.0.5:6379/0');
  assert.equal(entry!.authorization, '[redacted]');
  assert.equal(entry!.api_key, '[redacted]');
  assert.equal(entry!.model, 'm');
});

test('the trace and span ids of the active span are on the line', () => {
  new node.NodeTracerProvider().register(); // the async-local context manager traced processes run with
  const { log, entries } = capture('info');
  const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
  context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), () => log('inside'));
  log('outside');
  const [inside, outside] = entries();
  assert.equal(inside!.trace_id, spanContext.traceId);
  assert.equal(inside!.span_id, spanContext.spanId);
  assert.equal(outside!.trace_id, undefined);
});
