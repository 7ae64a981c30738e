import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { GrpcHealth, TrafficWindow, tfMetricName } from '../src/index.js';
import { sixDigits, tfMetricText } from '../src/prometheus-text.js';

class Reader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

test('bucket limits and sums are written as absl::StrCat writes a double: %g, six significant digits', () => {
  assert.deepEqual([612.220032, 10 * 1.8 ** 32, 100 * 1.2 ** 51, 605, 0.00001234, 100000, 1e6, Infinity].map(sixDigits), ['612.22', '1.47476e+09', '1.09205e+06', '605', '1.234e-05', '100000', '1e+06', '+Inf']);
});

test("TF Serving's name mangling: every character outside [a-zA-Z0-9_] becomes ':'", () => {
  assert.equal(tfMetricName('/tensorflow/serving/request_count'), ':tensorflow:serving:request_count');
  assert.equal(tfMetricName('/tensorflow/serving/batching_session/input_batch_size'), ':tensorflow:serving:batching_session:input_batch_size');
});

test('counters and histograms render as TF writes them: {} without labels, cumulative buckets ending at +Inf', async () => {
  const reader = new Reader();
  const meter = new MeterProvider({ readers: [reader] }).getMeter('t');
  meter.createCounter('tensorflow/serving/request_count').add(2, { model_name: 'm', status: 'OK' });
  meter.createCounter('tensorflow/serving/request_log_count').add(1);
  const histogram = meter.createHistogram('tensorflow/serving/request_latency', { advice: { explicitBucketBoundaries: [10, 100] } });
  for (const value of [5, 50, 50, 500]) histogram.record(value, { model_name: 'm', 'API-x': 'Predict' });
  const { resourceMetrics } = await reader.collect();
  const text = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics.map(tfMetricText)).join('');
  assert.equal(
    text,
    [
      '# TYPE :tensorflow:serving:request_count counter',
      ':tensorflow:serving:request_count{model_name="m",status="OK"} 2',
      '# TYPE :tensorflow:serving:request_log_count counter',
      ':tensorflow:serving:request_log_count{} 1',
      '# TYPE :tensorflow:serving:request_latency histogram',
      ':tensorflow:serving:request_latency_bucket{model_name="m",API_x="Predict",le="10"} 1',
      ':tensorflow:serving:request_latency_bucket{model_name="m",API_x="Predict",le="100"} 3',
      ':tensorflow:serving:request_latency_bucket{model_name="m",API_x="Predict",le="+Inf"} 4',
      ':tensorflow:serving:request_latency_sum{model_name="m",API_x="Predict"} 605',
      ':tensorflow:serving:request_latency_count{model_name="m",API_x="Predict"} 4',
      '',
    ].join('\n'),
  );
});

test('the traffic window keeps per-second counts and percentiles for a bounded window', () => {
  let now = 1_000_000;
  const window = new TrafficWindow(5, () => now);
  for (let i = 1; i <= 10; i++) window.record('m', i, i !== 10);
  now += 1000;
  window.record('m', 100, true);
  const [m] = window.snapshot(2, 3);
  assert.equal(m!.total, 11);
  assert.equal(m!.requestsPerSecond, 11 / 2);
  assert.equal(m!.errorsPerSecond, 1 / 2);
  assert.deepEqual(m!.series.map((p) => p.requestsPerSecond), [0, 10, 1]);
  assert.equal(m!.series[1]!.p50Ms, 6);
  assert.equal(m!.p95Ms, 100);
  now += 10_000;
  window.record('m', 1, true);
  assert.equal(window.snapshot(2, 3)[0]!.series.reduce((n, p) => n + p.requestsPerSecond, 0), 1, 'older seconds fall out');
});

test('health: services move with the server, models on their own, Watch hears only changes, draining is final', () => {
  const health = new GrpcHealth(false);
  const heard: string[] = [];
  const original = health.implementation.setStatus.bind(health.implementation);
  health.implementation.setStatus = (service, status) => {
    heard.push(`${service}=${status}`);
    original(service, status);
  };
  health.addService('tensorflow.serving.PredictionService');
  health.setServing(true);
  health.setServing(true);
  health.setModel('m', false);
  health.setModel('m', true);
  health.drain();
  health.setServing(true);
  health.setModel('m', true);
  assert.deepEqual(heard, [
    'tensorflow.serving.PredictionService=NOT_SERVING',
    'PredictionService=NOT_SERVING',
    '=SERVING',
    'tensorflow.serving.PredictionService=SERVING',
    'PredictionService=SERVING',
    'm=NOT_SERVING',
    'm=SERVING',
    '=NOT_SERVING',
    'tensorflow.serving.PredictionService=NOT_SERVING',
    'PredictionService=NOT_SERVING',
    'm=NOT_SERVING',
  ]);
});
