import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { BatchJob_State, type BatchJob } from '@maas/protos';
import { partsDir } from '@maas/batch-jobs';
import { MAAS_BIN } from '@maas/cli';
import { adderMismatches, adderRows, BatchTestCluster, ENDED } from './batch-harness.js';

const MODEL = 'adder';
const state = (s: BatchJob_State) => BatchJob_State[s];
const grpcCode = (code: number, pattern: RegExp) => (error: { code?: number; details?: string }) => error.code === code && pattern.test(error.details ?? '');

describe('batch jobs on a real cluster (Redis, registry, 2 workers, scheduler)', () => {
  const cluster = new BatchTestCluster();

  before(async () => {
    await cluster.start(2, MODEL, cluster.writeAdder(MODEL, [1]));
    await cluster.setReplicas(MODEL, 2, 2);
    await cluster.waitFor('adder ready on both workers', async () => (await cluster.describe()).workers.filter((w) => w.readyModels.includes(MODEL)).length === 2, 30_000);
  });

  after(() => cluster.stop());

  test('a job completes with exactly one result line per row, in row order', async () => {
    const input = cluster.writeInput(adderRows(300));
    const outputPath = cluster.outputPath();
    const submitted = await cluster.submit({ modelSpec: { name: MODEL, signatureName: '' }, inputPath: input, outputPath, rowsPerChunk: 25 });
    assert.equal(submitted.totalRows, 300n);
    assert.equal(submitted.totalChunks, 12);
    const job = await cluster.waitForJob(submitted.id);
    assert.equal(state(job.state), 'COMPLETED', job.error);
    assert.deepEqual([job.rowsDone, job.rowsFailed, job.chunksDone, job.resultsPath], [300n, 0n, 12, outputPath]);
    assert.deepEqual(adderMismatches(cluster.readResults(outputPath), 300), []);
    // The per-chunk parts are gone once the results file is written.
    assert.deepEqual(readdirSync(cluster.storage).filter((name) => name.includes('.parts')), []);
    const page = await cluster.results(job.id, 290, 20);
    assert.deepEqual(page.lines.map((line) => JSON.parse(line).row), [290, 291, 292, 293, 294, 295, 296, 297, 298, 299]);
    assert.deepEqual([page.partial, page.nextOffset, page.end], [false, 300n, true]);
  });

  test('chunks of a higher-priority job are taken first, even when it was submitted later', async () => {
    const spec = { name: MODEL, signatureName: '' };
    const low = cluster.outputPath();
    const high = cluster.outputPath();
    // Frozen workers take nothing, so the queue shows the order in which they will take the chunks.
    for (const worker of cluster.workers) worker.child.kill('SIGSTOP');
    let first;
    let second;
    let queued;
    try {
      first = await cluster.submit({ modelSpec: spec, instances: adderRows(40), outputPath: low, rowsPerChunk: 10, priority: 0 });
      second = await cluster.submit({ modelSpec: spec, instances: adderRows(30), outputPath: high, rowsPerChunk: 10, priority: 1000 });
      queued = await cluster.queuedChunks(MODEL);
    } finally {
      for (const worker of cluster.workers) worker.child.kill('SIGCONT');
    }
    const names = new Map([[first.id, 'low'], [second.id, 'high']]);
    const order = queued.filter((chunk) => names.has(chunk.data.jobId)).map((chunk) => `${names.get(chunk.data.jobId)} ${chunk.data.index}`);
    assert.deepEqual(order, ['high 0', 'high 1', 'high 2', 'low 0', 'low 1', 'low 2', 'low 3']);
    for (const [job, rows, output] of [[first, 40, low], [second, 30, high]] as const) {
      assert.equal(state((await cluster.waitForJob(job.id)).state), 'COMPLETED');
      assert.deepEqual(adderMismatches(cluster.readResults(output), rows), []);
    }
  });

  test('rows the model rejects get error lines and the job goes on (REST API)', async () => {
    const lines = adderRows(40);
    lines[3] = '"not a list"';
    lines[17] = '[1, [2]]';
    lines[25] = '{"nope": [1]}';
    lines.splice(10, 0, '', '   '); // blank lines hold no row
    const outputPath = cluster.outputPath();
    const submitted = await cluster.rest('POST', '/v1/batch/jobs', {
      model_spec: { name: MODEL },
      input_path: cluster.writeInput(lines),
      output_path: outputPath,
      rows_per_chunk: 8,
    });
    assert.equal(submitted.status, 200, JSON.stringify(submitted.json));
    assert.equal(submitted.json.total_rows, 40);
    const id = submitted.json.id as string;
    await cluster.waitForJob(id);
    const status = await cluster.rest('GET', `/v1/batch/jobs/${id}`);
    assert.equal(status.json.state, 'COMPLETED');
    assert.equal(status.json.rows_failed, 3);
    assert.match(status.json.error as string, /^row 3: input 'x' expects float values, got "not a list"/);
    const results = cluster.readResults(outputPath);
    assert.deepEqual(adderMismatches(results, 40, new Set([3, 17, 25])), []);
    assert.match(results[17]!.error!, /not a rectangular list/);
    assert.equal(results[25]!.error, 'the row names inputs the model does not have: nope');
    const page = await cluster.rest('GET', `/v1/batch/jobs/${id}/results?offset=2&limit=2`);
    assert.deepEqual(page.json, { results: [{ row: 2, prediction: [3, 3.5] }, { row: 3, error: results[3]!.error }], partial: false, next_offset: 4, end: false });
    // Inline rows: the instances themselves in the body.
    const inline = await cluster.rest('POST', '/v1/batch/jobs', { model_spec: { name: MODEL }, instances: [[1, 2], { x: [3, 4] }], output_path: cluster.outputPath() });
    assert.deepEqual([inline.status, inline.json.input_path, inline.json.total_rows], [200, '', 2], JSON.stringify(inline.json));
    await cluster.waitForJob(inline.json.id as string);
    const inlineResults = await cluster.rest('GET', `/v1/batch/jobs/${inline.json.id as string}/results`);
    assert.deepEqual(inlineResults.json, { results: [{ row: 0, prediction: [2, 3] }, { row: 1, prediction: [4, 5] }], partial: false, next_offset: 2, end: true });
  });

  test('a job over its failure budget ends FAILED with the reason; what it processed is in OUTPUT.partial', async () => {
    const rows = adderRows(60);
    rows[5] = '"bad"';
    rows[6] = 'true';
    const outputPath = cluster.outputPath();
    const submitted = await cluster.submit({ modelSpec: { name: MODEL, signatureName: '' }, instances: rows, outputPath, rowsPerChunk: 10, maxFailedRows: 1n });
    const job = await cluster.waitForJob(submitted.id);
    assert.equal(state(job.state), 'FAILED');
    assert.match(job.error, /^2 rows failed, more than the failure budget of 1; first error: row 5: /);
    assert.equal(job.resultsPath, `${outputPath}.partial`);
    assert.ok(!existsSync(outputPath), 'no complete-looking output for a failed job');
    const partial = cluster.readResults(job.resultsPath);
    assert.deepEqual(partial.slice(0, 10).map((l) => l.row), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(partial.map((l) => l.row), [...new Set(partial.map((l) => l.row))].sort((a, b) => a - b), 'rows in order, none twice');
    assert.equal(BigInt(partial.length), job.rowsDone);
    assert.equal((await cluster.results(job.id, 0, 100)).partial, true);
  });

  test('persisting failures: a chunk retries with exponential backoff, then its rows get error lines; unwritable results end the job FAILED', async () => {
    const spec = { name: MODEL, signatureName: '' };
    const inputA = cluster.writeInput(adderRows(30));
    const inputB = cluster.writeInput(adderRows(20));
    const inputC = cluster.writeInput(adderRows(10));
    const outA = cluster.outputPath();
    const outB = cluster.outputPath();
    const outC = cluster.outputPath();
    // A's input is away for a while, B's is gone for good, a directory blocks C's output path. Workers
    // are frozen from before the submits until after, so no chunk runs in between.
    for (const worker of cluster.workers) worker.child.kill('SIGSTOP');
    let a!: BatchJob;
    let b!: BatchJob;
    let c!: BatchJob;
    try {
      a = await cluster.submit({ modelSpec: spec, inputPath: inputA, outputPath: outA });
      b = await cluster.submit({ modelSpec: spec, inputPath: inputB, outputPath: outB });
      c = await cluster.submit({ modelSpec: spec, inputPath: inputC, outputPath: outC });
      renameSync(inputA, `${inputA}.away`);
      unlinkSync(inputB);
      mkdirSync(join(outC, 'blocker'), { recursive: true });
    } finally {
      for (const worker of cluster.workers) worker.child.kill('SIGCONT');
    }
    // After each failed attempt the chunk waits in BullMQ's delayed set, its hash holding the attempts
    // made and the delay (set together; the delay goes back to 0 when the wait is over).
    const delays = { a: new Map<number, number>(), b: new Map<number, number>() };
    const watch = async (id: string, seen: Map<number, number>) => {
      const job = await cluster.chunkJob(MODEL, id, 0);
      if (job && Number(job.delay) > 0) seen.set(job.attemptsMade, Number(job.delay));
    };
    await cluster.waitFor('two failed attempts of A', async () => {
      await Promise.all([watch(a.id, delays.a), watch(b.id, delays.b)]);
      return [...delays.a.keys()].some((attempts) => attempts >= 2);
    }, 30_000);
    renameSync(`${inputA}.away`, inputA);
    await cluster.waitFor('B and C ended', async () => {
      await watch(b.id, delays.b);
      return (await Promise.all([b.id, c.id].map((id) => cluster.get(id)))).every((job) => ENDED.includes(job.state));
    }, 90_000);

    const jobA = await cluster.waitForJob(a.id);
    assert.equal(state(jobA.state), 'COMPLETED', jobA.error);
    assert.equal(jobA.rowsFailed, 0n, 'the retry that found the input ran every row');
    assert.deepEqual(adderMismatches(cluster.readResults(outA), 30), []);

    const jobB = await cluster.get(b.id);
    assert.equal(state(jobB.state), 'FAILED');
    assert.match(jobB.error, /^20 rows failed, more than the failure budget of 2; first error: row 0: chunk 0 failed \(attempt 5\): ENOENT/);
    const partial = cluster.readResults(`${outB}.partial`);
    assert.deepEqual(partial.map((line) => line.row), Array.from({ length: 20 }, (_, i) => i));
    assert.ok(partial.every((line) => /^chunk 0 failed \(attempt 5\): ENOENT/.test(line.error ?? '')), JSON.stringify(partial[0]));
    // Exponential backoff from 1 s: the delays seen are 1000 x 2^(attempt - 1), up to 8 s before the fifth and last attempt.
    for (const [attempts, delay] of [...delays.a, ...delays.b]) assert.equal(delay, 1000 * 2 ** (attempts - 1), `attempt ${attempts}`);
    assert.equal(delays.b.get(4), 8000, JSON.stringify([...delays.b]));

    const jobC = await cluster.get(c.id);
    assert.equal(state(jobC.state), 'FAILED');
    assert.match(jobC.error, /^results could not be written: /);
    assert.equal(jobC.resultsPath, '');
    assert.ok(!existsSync(partsDir(outC, jobC.id)), 'an ended job leaves no parts behind');
    await assert.rejects(cluster.results(jobC.id, 0, 10), grpcCode(status.FAILED_PRECONDITION, /FAILED without results: results could not be written/));
  });

  test('submit-time errors: missing input, input or output a directory, malformed line, unknown model or version, unwritable output, bad arguments', async () => {
    const spec = { name: MODEL, signatureName: '' };
    const output = cluster.outputPath();
    await assert.rejects(cluster.submit({ modelSpec: spec, inputPath: `${cluster.storage}/missing.jsonl`, outputPath: output }), grpcCode(status.NOT_FOUND, /input file .*missing.jsonl does not exist/));
    await assert.rejects(cluster.submit({ modelSpec: spec, inputPath: cluster.storage, outputPath: output }), grpcCode(status.FAILED_PRECONDITION, /input file .* is a directory/));
    const malformed = cluster.writeInput(['[1]', '', '[2', '[3]']);
    await assert.rejects(cluster.submit({ modelSpec: spec, inputPath: malformed, outputPath: output }), grpcCode(status.INVALID_ARGUMENT, /has 1 line\(s\) that are not JSON: line 3: /));
    const good = cluster.writeInput(adderRows(3));
    await assert.rejects(cluster.submit({ modelSpec: { ...spec, name: 'nope' }, inputPath: good, outputPath: output }), grpcCode(status.NOT_FOUND, /Latest\(nope\)/));
    await assert.rejects(cluster.submit({ modelSpec: { ...spec, version: 7n }, inputPath: good, outputPath: output }), grpcCode(status.NOT_FOUND, /Specific\(adder, 7\)/));
    await assert.rejects(cluster.submit({ modelSpec: spec, inputPath: good, outputPath: `${cluster.storage}/no/such/dir/out.jsonl` }), grpcCode(status.FAILED_PRECONDITION, /cannot be written: directory .* does not exist/));
    await assert.rejects(cluster.submit({ modelSpec: spec, inputPath: good, outputPath: cluster.storage }), grpcCode(status.FAILED_PRECONDITION, /output .* is a directory/));
    await assert.rejects(cluster.submit({ modelSpec: spec, inputPath: 'relative.jsonl', outputPath: output }), grpcCode(status.INVALID_ARGUMENT, /input_path must be absolute/));
    await assert.rejects(cluster.submit({ modelSpec: spec, inputPath: good, instances: ['[1]'], outputPath: output }), grpcCode(status.INVALID_ARGUMENT, /exactly one of input_path and instances/));
    await assert.rejects(cluster.submit({ modelSpec: spec, inputPath: good, outputPath: good }), grpcCode(status.INVALID_ARGUMENT, /must differ/));
    await assert.rejects(cluster.get('no-such-job'), grpcCode(status.NOT_FOUND, /no-such-job not found/));
    // Nothing was left behind by the refused submits.
    assert.deepEqual(readdirSync(cluster.storage).filter((name) => name.includes('.parts')), []);
    const rest = await cluster.rest('POST', '/v1/batch/jobs', { model_spec: { name: MODEL }, input_path: good, output_path: output, ouput: 'typo' });
    assert.deepEqual([rest.status, rest.json.error], [400, 'unknown field(s): ouput; expected some of model_spec, input_path, instances, output_path, rows_per_chunk, priority, max_failed_rows']);
    assert.equal((await cluster.rest('POST', '/v1/batch/jobs', { model_spec: { name: 'nope' }, input_path: good, output_path: output })).status, 404);
    assert.equal((await cluster.rest('GET', '/v1/batch/jobs/no-such-job')).status, 404);
  });

  test('cancel stops new chunks at once; the rows processed are left in OUTPUT.partial', async () => {
    const total = 2000;
    const outputPath = cluster.outputPath();
    // Wide rows make each 20-row chunk take a while, so the job is mid-way when it is cancelled.
    const submitted = await cluster.submit({ modelSpec: { name: MODEL, signatureName: '' }, inputPath: cluster.writeInput(adderRows(total, 200)), outputPath, rowsPerChunk: 20 });
    await cluster.waitForJob(submitted.id, 30_000, (job) => job.rowsDone > 0n, 20);
    // Frozen workers finish nothing while the cancel lands, so what counts as "after" is exact.
    for (const worker of cluster.workers) worker.child.kill('SIGSTOP');
    let cancelled;
    let running;
    try {
      running = (await cluster.rest('GET', `/v1/batch/jobs/${submitted.id}`)).json;
      cancelled = await cluster.rest('POST', `/v1/batch/jobs/${submitted.id}:cancel`);
    } finally {
      for (const worker of cluster.workers) worker.child.kill('SIGCONT');
    }
    // Progress while it ran: rows done, a rate, and the time left at that rate.
    assert.equal(running.state, 'RUNNING');
    const doneAtCancel = BigInt(running.rows_done as number);
    const [rate, eta] = [running.rows_per_second as number, running.eta_seconds as number];
    assert.ok(rate > 0 && Math.abs(eta - (total - Number(doneAtCancel)) / rate) < 0.01 * eta, JSON.stringify(running));
    assert.deepEqual([cancelled.status, cancelled.json.state], [200, 'CANCELLING']);
    assert.ok(doneAtCancel < BigInt(total), 'the job was still running');
    const job = await cluster.waitForJob(submitted.id);
    assert.equal(state(job.state), 'CANCELLED');
    assert.equal(job.error, 'cancelled by request');
    // Only the chunks in work when it was cancelled (one per worker) may finish after.
    assert.ok(job.rowsDone >= doneAtCancel && job.rowsDone <= doneAtCancel + 2n * 20n, `${job.rowsDone} rows done, ${doneAtCancel} at the cancel`);
    assert.equal(job.resultsPath, `${outputPath}.partial`);
    assert.ok(!existsSync(outputPath));
    const partial = cluster.readResults(job.resultsPath);
    assert.equal(BigInt(partial.length), job.rowsDone);
    const rows = partial.map((l) => l.row);
    assert.ok(rows.every((row, i) => i === 0 || row > rows[i - 1]!), 'rows in order, none twice');
    assert.ok(partial.every((l) => (l.prediction as number[])[0] === l.row + 1), 'every line is its own row');
    assert.equal(state((await cluster.cancel(job.id)).state), 'CANCELLED', 'cancelling an ended job changes nothing');
    const listed = await cluster.rest('GET', '/v1/batch/jobs?limit=50');
    assert.deepEqual((listed.json.jobs as Array<Record<string, unknown>>).filter((j) => j.id === job.id).map((j) => [j.state, j.rows_done]), [['CANCELLED', Number(job.rowsDone)]]);
  });

  test('maas batch submit shows progress and a summary; status, list and cancel talk to the same API', async () => {
    const scheduler = `--scheduler=127.0.0.1:${cluster.scheduler.grpcPort}`;
    const run = async (args: string[]) => {
      const child = spawn(process.execPath, [MAAS_BIN, 'batch', ...args, scheduler], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const [code] = (await once(child, 'exit')) as [number];
      return { code, stdout, stderr };
    };
    const outputPath = cluster.outputPath();
    const submitted = await run(['submit', cluster.writeInput(adderRows(120)), '--model', MODEL, '--out', outputPath, '--rows_per_chunk=30']);
    assert.equal(submitted.code, 0, submitted.stderr);
    // Not a terminal: plain progress lines, no carriage returns.
    assert.match(submitted.stderr, /^job (\S+): 120 rows of adder in 4 chunks\n/);
    assert.match(submitted.stderr, /: 120\/120 rows .*COMPLETED\n/);
    assert.ok(!submitted.stderr.includes('\r'));
    const id = /^job (\S+) COMPLETED: 120 of 120 rows in .*, 0 failed\nresults: (.*)\n$/.exec(submitted.stdout);
    assert.ok(id, submitted.stdout);
    assert.equal(id[2], outputPath);
    assert.deepEqual(adderMismatches(cluster.readResults(outputPath), 120), []);
    const shown = await run(['status', id[1]!]);
    assert.match(shown.stdout, new RegExp(`job ${id[1]}: COMPLETED\\n  model:    adder\\n`));
    assert.match((await run(['list', '--limit=50'])).stdout, new RegExp(`${id[1]} COMPLETED +adder +120/120 +0 `));
    assert.match((await run(['cancel', id[1]!])).stdout, /: COMPLETED$/m);
    const refused = await run(['submit', cluster.writeInput(adderRows(1)), '--model', 'nope', '--out', outputPath]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /maas batch: Servable not found for request: Latest\(nope\)/);
    const malformed = await run(['submit', cluster.writeInput(['[1, 2]', '{"x": [1, 2]', '[3, 4]']), '--model', MODEL, '--out', outputPath]);
    assert.deepEqual([malformed.code, /maas batch: input file .* has 1 line\(s\) that are not JSON: line 2: /.test(malformed.stderr)], [1, true], malformed.stderr);
  });

  test('an input edited after submit: the chunk whose rows changed gets error lines saying so, the others run', async () => {
    const rows = adderRows(40);
    const input = cluster.writeInput(rows);
    const outputPath = cluster.outputPath();
    // Workers frozen from before the submit until after the edit, so no chunk is read in between.
    for (const worker of cluster.workers) worker.child.kill('SIGSTOP');
    let submitted;
    try {
      submitted = await cluster.submit({ modelSpec: { name: MODEL, signatureName: '' }, inputPath: input, outputPath, rowsPerChunk: 10, maxFailedRows: 10n });
      rows[12] = rows[12]!.replace('12', '99'); // same length: only chunk 1's rows differ
      writeFileSync(input, `${rows.join('\n')}\n`);
    } finally {
      for (const worker of cluster.workers) worker.child.kill('SIGCONT');
    }
    const job = await cluster.waitForJob(submitted.id);
    assert.equal(state(job.state), 'COMPLETED', job.error);
    assert.equal(job.rowsFailed, 10n);
    const results = cluster.readResults(outputPath);
    const changed = new Set(Array.from({ length: 10 }, (_, i) => 10 + i));
    assert.deepEqual(adderMismatches(results, 40, changed), []);
    for (const row of changed) assert.match(results[row]!.error!, /^chunk 1 failed \(attempt 1\): input file .* changed after the job was submitted/);
  });

  test('a worker killed (SIGKILL) in the middle of a chunk loses nothing: the result is complete and duplicate-free', async () => {
    const total = 1500;
    const outputPath = cluster.outputPath();
    const submitted = await cluster.submit({ modelSpec: { name: MODEL, signatureName: '' }, inputPath: cluster.writeInput(adderRows(total, 300)), outputPath, rowsPerChunk: 50 });
    await cluster.waitForJob(submitted.id, 30_000, (job) => job.rowsDone > 0n, 20);
    // Freeze workers one at a time until one is caught holding a chunk, then kill it there.
    let victim;
    let chunk;
    for (let attempt = 0; attempt < 200 && !victim; attempt++) {
      const candidate = cluster.workers[attempt % cluster.workers.length]!;
      candidate.child.kill('SIGSTOP');
      chunk = (await cluster.activeChunks(MODEL)).find((job) => job.processedBy === candidate.id);
      if (chunk) victim = candidate;
      else candidate.child.kill('SIGCONT');
    }
    assert.ok(victim && chunk, 'caught a worker in the middle of a chunk');
    victim.child.kill('SIGKILL');
    cluster.workers = cluster.workers.filter((w) => w !== victim);
    const doneAtKill = (await cluster.get(submitted.id)).rowsDone;
    assert.ok(doneAtKill < BigInt(total), 'killed before the end');
    const job = await cluster.waitForJob(submitted.id, 60_000);
    assert.equal(state(job.state), 'COMPLETED', job.error);
    assert.deepEqual([job.rowsDone, job.rowsFailed, job.chunksDone], [BigInt(total), 0n, 30]);
    assert.deepEqual(adderMismatches(cluster.readResults(outputPath), total), []);
    console.log(`killed worker ${victim.id} holding chunk ${chunk.data.index} at ${doneAtKill}/${total} rows; the job completed`);
  });
});
