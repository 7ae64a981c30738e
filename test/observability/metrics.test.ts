import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { BatchJob_State } from '@maas/protos';
import { addConstantModel, callUnary, loadTfServingClients, makeTempDir, startMaas, waitFor, writeModelVersion, type ServeProcess, type UnaryError } from '@maas/test-support';
import { httpText, ObservedCluster, sample, tableAdderModel } from './observability-helpers.js';

const predictRequest = (x: number, version?: number, model = 'adder') => ({
  model_spec: { name: model, ...(version !== undefined && { version: { value: String(version) } }) },
  inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }, { size: '1' }] }, tensor_content: Buffer.from(Float32Array.from([x]).buffer) } },
});

/** Samples of several metrics at once, so a test can compare before and after its load. */
function reader(text: string) {
  return (name: string, labels: Record<string, string> = {}) => sample(text, name, labels) ?? 0;
}

describe('the cluster under a test load', () => {
  const cluster = new ObservedCluster(20_000);

  before(async () => {
    await cluster.start(1, 'adder', cluster.writeAdder('adder', [1]));
    await cluster.waitFor('adder to answer', async () => (await cluster.predict('adder', 1))[0] === '1');
  });
  after(() => cluster.stop());

  test('/metrics on the scheduler and the worker, and TF Serving names on the REST port, count exactly the requests sent', async () => {
    const scheduler = cluster.scheduler;
    const worker = cluster.workers[0]!;
    assert.ok(scheduler.metricsPort && worker.metricsPort, 'both announce their metrics port');
    const scrape = async () => ({
      scheduler: reader(await httpText(scheduler.metricsPort!, '/metrics')),
      worker: reader(await httpText(worker.metricsPort!, '/metrics')),
      tf: reader(await httpText(scheduler.restPort!, '/monitoring/prometheus/metrics')),
    });
    const before = await scrape();

    // 7 gRPC Predicts that succeed (3 at a time, so some share batches), 2 for a version that does not exist,
    // 3 REST predicts and 1 REST status read.
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: round < 2 ? 3 : 1 }, (_, i) => callUnary(cluster.clients.prediction, 'Predict', predictRequest(i), { deadlineMs: 10_000 })));
    }
    for (let i = 0; i < 2; i++) {
      await assert.rejects(callUnary(cluster.clients.prediction, 'Predict', predictRequest(0, 99)), (e: UnaryError) => e.code === grpc.status.NOT_FOUND);
    }
    const rest = `http://127.0.0.1:${scheduler.restPort}/v1/models/adder`;
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${rest}:predict`, { method: 'POST', body: JSON.stringify({ instances: [[i]] }) });
      assert.deepEqual(await response.json(), { predictions: [[i + 1]] });
    }
    assert.equal((await fetch(rest)).status, 200);

    const after = await scrape();
    const delta = (side: 'scheduler' | 'worker' | 'tf', name: string, labels: Record<string, string> = {}) => after[side](name, labels) - before[side](name, labels);

    const predict = { model: 'adder', method: 'Predict' };
    assert.equal(delta('scheduler', 'maas_requests_total', { ...predict, version: '1', status: 'OK', entrypoint: 'grpc' }), 7);
    assert.equal(delta('scheduler', 'maas_requests_total', { ...predict, version: '99', status: 'NOT_FOUND', entrypoint: 'grpc' }), 0, 'no version answered');
    assert.equal(delta('scheduler', 'maas_requests_total', { ...predict, version: '', status: 'NOT_FOUND', entrypoint: 'grpc' }), 2);
    assert.equal(delta('scheduler', 'maas_requests_total', { ...predict, status: 'OK', entrypoint: 'rest' }), 3);
    assert.equal(delta('scheduler', 'maas_requests_total', { model: 'adder', method: 'GetModelStatus', status: 'OK', entrypoint: 'rest' }), 1);
    assert.equal(delta('scheduler', 'maas_request_duration_seconds_count', { ...predict, status: 'OK', entrypoint: 'grpc' }), 7);
    assert.equal(after.scheduler('maas_replicas_wanted', { model: 'adder' }), 1);
    assert.equal(after.scheduler('maas_replicas_ready', { model: 'adder' }), 1);

    // The worker saw every successful Predict (gRPC and REST ones, forwarded), in batches.
    const served = { model: 'adder', version: '1' };
    assert.equal(delta('worker', 'maas_requests_total', { ...served, method: 'Predict', status: 'OK' }), 10);
    assert.equal(delta('worker', 'maas_queue_duration_seconds_count', served), 10);
    assert.equal(delta('worker', 'maas_batch_size_sum', served), 10, 'every row ran in some batch');
    const batches = delta('worker', 'maas_batch_size_count', served);
    assert.ok(batches >= 1 && batches <= 10);
    assert.equal(delta('worker', 'maas_compute_duration_seconds_count', served), batches, 'one onnxruntime run per batch');
    assert.equal(after.worker('maas_queue_depth', served), 0);
    assert.ok(after.worker('maas_model_memory_bytes', served) >= 0 && sample(await httpText(worker.metricsPort!, '/metrics'), 'maas_model_memory_bytes', served) !== undefined);
    assert.equal(after.worker('maas_model_load_duration_seconds_count', { ...served, outcome: 'loaded' }), 1);

    // TF Serving's names: every REST /v1 call and every gRPC Predict; latency for successful ones.
    assert.equal(delta('tf', ':tensorflow:serving:request_count', { model_name: 'adder', status: 'OK' }), 11);
    assert.equal(delta('tf', ':tensorflow:serving:request_count', { model_name: 'adder', status: 'NOT_FOUND' }), 2);
    assert.equal(delta('tf', ':tensorflow:serving:request_latency_count', { model_name: 'adder', API: 'Predict', entrypoint: 'GRPC' }), 7);
    assert.equal(delta('tf', ':tensorflow:serving:request_latency_count', { model_name: 'adder', API: 'predict', entrypoint: 'REST' }), 3);
    assert.equal(delta('tf', ':tensorflow:serving:request_latency_count', { model_name: 'adder', API: '', entrypoint: 'REST' }), 1);
  });

  test('batch-job rows done and failed are counted on the workers that ran them', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => JSON.stringify([i]));
    rows[2] = '"not a list"';
    rows[7] = '[1, [2]]';
    const submitted = await cluster.submit({ modelSpec: { name: 'adder', signatureName: '' }, inputPath: cluster.writeInput(rows), outputPath: cluster.outputPath(), rowsPerChunk: 4, maxFailedRows: 5n });
    const job = await cluster.waitForJob(submitted.id);
    // rowsDone counts every row with a result line, error lines included.
    assert.deepEqual([BatchJob_State[job.state], job.rowsDone, job.rowsFailed], ['COMPLETED', 10n, 2n]);
    const text = await httpText(cluster.workers[0]!.metricsPort!, '/metrics');
    assert.equal(sample(text, 'maas_batch_job_rows_total', { job: submitted.id, model: 'adder', outcome: 'done' }), 8);
    assert.equal(sample(text, 'maas_batch_job_rows_total', { job: submitted.id, model: 'adder', outcome: 'failed' }), 2);
  });

  test('a version that fails to load is counted as a load failure, once per attempt the worker logs', async () => {
    const worker = cluster.workers[0]!;
    const failed = { model: 'adder', version: '2' };
    writeModelVersion(join(cluster.modelRoot, 'adder'), 2, new TextEncoder().encode('not an onnx model'));
    const attempts = () => worker.log().split('\n').filter((line) => line.includes('failed to load adder:2')).length;
    await cluster.waitFor('the worker to try version 2', () => attempts() > 0, 20_000);
    const text = await httpText(worker.metricsPort!, '/metrics');
    assert.equal(sample(text, 'maas_model_load_failures_total', failed), attempts());
    assert.equal(sample(text, 'maas_model_load_duration_seconds_count', { ...failed, outcome: 'failed' }), attempts());
    assert.equal(sample(text, 'maas_model_memory_bytes', failed), undefined, 'a version that never loaded holds no memory');
    assert.equal((await cluster.predict('adder', 5))[1], 6, 'version 1 keeps serving');
  });
});

describe('maas serve with --monitoring_config_file and batching', () => {
  let server: ServeProcess;
  let clients: ReturnType<typeof loadTfServingClients>;

  before(async () => {
    const dir = makeTempDir();
    writeModelVersion(join(dir, 'adder'), 1, addConstantModel(1));
    // `queued` batches up to 3 rows and waits 60 s for them: rows stay in its queue until a third arrives.
    writeFileSync(join(writeModelVersion(join(dir, 'queued'), 1, addConstantModel(1)), '..', 'batching_params.pbtxt'), 'max_batch_size { value: 3 } batch_timeout_micros { value: 60000000 }');
    // `table` holds a 32 MiB lookup table once loaded.
    writeModelVersion(join(dir, 'table'), 1, tableAdderModel(32));
    const models = ['adder', 'queued', 'table'].map((name) => `config { name: "${name}" base_path: "${join(dir, name)}" model_platform: "onnx" }`);
    writeFileSync(join(dir, 'models.config'), `model_config_list { ${models.join(' ')} }`);
    writeFileSync(join(dir, 'monitoring.config'), 'prometheus_config { enable: true path: "/tf-metrics" }');
    writeFileSync(join(dir, 'batching.config'), 'max_batch_size { value: 4 } batch_timeout_micros { value: 1000000 } allowed_batch_sizes: 4');
    server = await startMaas([
      'serve',
      '--port=0',
      '--rest_api_port=-1',
      '--metrics_port=-1',
      `--model_config_file=${join(dir, 'models.config')}`,
      `--monitoring_config_file=${join(dir, 'monitoring.config')}`,
      '--enable_batching',
      `--batching_parameters_file=${join(dir, 'batching.config')}`,
      '--enable_per_model_batching_parameters',
    ]);
    clients = loadTfServingClients(`127.0.0.1:${server.grpcPort}`);
  });
  after(async () => {
    clients?.close();
    await server?.stop();
  });

  test("TF Serving's request, runtime and batching metrics at the configured path, in TF's text format", async () => {
    // Two batches of 3 rows each, padded to the allowed size 4.
    for (let round = 0; round < 2; round++) {
      await Promise.all([0, 1, 2].map((x) => callUnary(clients.prediction, 'Predict', predictRequest(x), { deadlineMs: 10_000 })));
    }
    const text = await httpText(server.restPort!, '/tf-metrics');
    const value = (name: string, labels: Record<string, string> = {}) => sample(text, `:tensorflow:serving:${name}`, { model_name: 'adder', ...labels });
    assert.equal(value('request_count', { status: 'OK' }), 6);
    assert.equal(value('request_latency_count', { API: 'Predict', entrypoint: 'GRPC' }), 6);
    assert.equal(value('runtime_latency_count', { API: 'Predict' }), 2, 'one runtime run per batch');
    // batching_session's metrics carry TF's labels, not the model's (batching_session.cc, batching_util.h).
    const batching = (name: string, labels: Record<string, string> = {}) => sample(text, `:tensorflow:serving:batching_session:${name}`, labels);
    assert.equal(batching('input_batch_size_count'), 6, 'one sample per request and input tensor');
    assert.equal(batching('input_batch_size_sum'), 6);
    assert.equal(batching('processed_batch_size_count'), 2);
    assert.equal(batching('processed_batch_size_sum'), 8);
    assert.equal(batching('padding_size_sum', { execution_batch_size: '4' }), 2);
    assert.equal(batching('queuing_latency_count', { thread_pool_name: 'batch_threads' }), 6, 'the pool name a batching file without thread_pool_name gets');
    assert.equal(batching('wrapped_run_count'), 2, 'one run of the wrapped session per batch');
    assert.match(text, /^:tensorflow:serving:batching_session:wrapped_run_count\{\} 2$/m);
    assert.match(text, /^:tensorflow:serving:batching_session:input_batch_size_bucket\{le="8192"\} 6$/m, 'buckets 1 x 2^i, 14 of them');
    assert.match(text, /^:tensorflow:serving:batching_session:queuing_latency_bucket\{thread_pool_name="batch_threads",le="1.09205e\+06"\} \d+$/m, 'buckets 100 us x 1.2^i, 52 of them, written as %g');
    // The format TF's exporter writes (shared/spec §10).
    assert.match(text, /^# TYPE :tensorflow:serving:request_count counter$/m);
    assert.match(text, /^# TYPE :tensorflow:serving:request_latency histogram$/m);
    const buckets = text.split('\n').filter((l) => l.startsWith(':tensorflow:serving:request_latency_bucket{'));
    assert.equal(buckets.length, 34, '33 buckets of 10 us x 1.8^i, then +Inf');
    assert.match(buckets[0]!, /le="10"\} \d+$/);
    assert.match(buckets[6]!, /le="340.122"\} \d+$/, 'limits written with six significant digits, as absl::StrCat does');
    // Metrics in name order, as TF's registry (a std::map) lists them.
    const types = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
    assert.deepEqual(types, [...types].sort());
    assert.match(buckets.at(-1)!, /le="\+Inf"\} 6$/);
    // The process's own /metrics carries the same requests under our names.
    const own = await httpText(server.metricsPort!, '/metrics');
    assert.equal(sample(own, 'maas_requests_total', { model: 'adder', version: '1', method: 'Predict', status: 'OK', entrypoint: 'grpc' }), 6);
    assert.equal(sample(own, 'maas_batch_size_count', { model: 'adder', version: '1' }), 2);
  });

  test('queue depth counts rows waiting for their batch; queue, compute and end-to-end latency histograms hold the wait', async () => {
    const scrape = async () => reader(await httpText(server.metricsPort!, '/metrics'));
    const served = { model: 'queued', version: '1' };
    const before = await scrape();
    const sentAt = performance.now();
    const send = (x: number) => callUnary(clients.prediction, 'Predict', predictRequest(x, undefined, 'queued'), { deadlineMs: 90_000 });
    // Two rows wait: the batch (max 3 rows, 60 s timeout) forms only when a third arrives.
    const waiting = [1, 2].map(send);
    await waitFor('two rows in the batch queue', async () => (await scrape())('maas_queue_depth', served) === 2);
    await new Promise((r) => setTimeout(r, 300));
    const queuedSeconds = (performance.now() - sentAt) / 1000;
    await Promise.all([...waiting, send(3)]);
    const elapsed = (performance.now() - sentAt) / 1000;
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => after(name, labels) - before(name, labels);
    assert.equal(after('maas_queue_depth', served), 0);
    assert.equal(delta('maas_queue_duration_seconds_count', served), 3);
    const queued = delta('maas_queue_duration_seconds_sum', served);
    assert.ok(queued >= 2 * queuedSeconds - 0.05 && queued <= 2 * elapsed + 0.05, `two rows queued >= ${queuedSeconds.toFixed(3)} s each: ${queued} s in all`);
    // The two rows that waited fall above 250 ms, the third (it completed the batch) below.
    assert.equal(delta('maas_queue_duration_seconds_bucket', { ...served, le: '0.25' }), 1);
    assert.equal(delta('maas_batch_size_count', served), 1);
    assert.equal(delta('maas_batch_size_sum', served), 3);
    assert.equal(delta('maas_compute_duration_seconds_count', served), 1);
    assert.ok(delta('maas_compute_duration_seconds_sum', served) < elapsed, 'compute is the onnxruntime run only');
    const e2e = { model: 'queued', method: 'Predict', status: 'OK', entrypoint: 'grpc' };
    assert.equal(delta('maas_request_duration_seconds_count', e2e), 3);
    assert.ok(delta('maas_request_duration_seconds_sum', e2e) >= queued, 'end to end includes the queue wait');
  });

  test('memory per loaded model: the version holding a 32 MiB table reports at least that much', async () => {
    const text = await httpText(server.metricsPort!, '/metrics');
    const table = sample(text, 'maas_model_memory_bytes', { model: 'table', version: '1' })!;
    assert.ok(table >= 32 * 2 ** 20 && table < 256 * 2 ** 20, `table: ${(table / 2 ** 20).toFixed(1)} MiB`);
    assert.equal(sample(text, 'maas_model_load_duration_seconds_count', { model: 'table', version: '1', outcome: 'loaded' }), 1);
    assert.deepEqual(await callUnary(clients.prediction, 'Predict', predictRequest(2, undefined, 'table')).then((r: any) => [...new Float32Array(new Uint8Array(r.outputs.y.tensor_content).buffer)]), [3]);
  });

  test('the REST port answers only the configured path with the metrics, and /v1 as before', async () => {
    assert.equal((await fetch(`http://127.0.0.1:${server.restPort}/monitoring/prometheus/metrics`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${server.restPort}/v1/models/adder`)).status, 200);
  });
});
