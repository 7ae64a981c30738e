import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALL_FAULTS } from '../../chaos/faults.js';
import { printReport, TARGET_SUCCESS_RATE } from '../../chaos/report.js';
import { runChaos } from '../../chaos/scenario.js';

/*
 * The CI version of `npm run chaos`: one round of every fault (kill -9 of a worker, the scheduler
 * and the registry, a Redis restart, a worker paused in bursts, a broken model version) against a
 * real cluster under steady load, with a batch job running through each.
 */
test('chaos: every fault once under load; >= 99.9 % success, full recovery, every batch row exactly once', { timeout: 240_000 }, async () => {
  const report = await runChaos({
    workers: 3,
    replicas: 2,
    faults: ALL_FAULTS,
    settleMs: 1000,
    recoverTimeoutMs: 45_000,
    clients: 3,
    deadlineMs: 10_000,
    batchRows: 4000,
    rowsPerChunk: 100,
    seed: 1,
    log: (line) => console.log(line),
  });
  printReport(report);
  assert.ok(report.requests > 200, `only ${report.requests} requests ran`);
  assert.ok(report.successRate >= TARGET_SUCCESS_RATE, `success rate ${report.successRate}: ${JSON.stringify(report.outcomes)}`);
  for (const fault of report.faults) assert.ok(fault.recoveredAfterMs !== undefined, `not recovered from ${fault.fault}`);
  assert.equal(report.batch.length, ALL_FAULTS.length);
  for (const job of report.batch) {
    assert.equal(job.state, 'COMPLETED', `batch job ${job.id}`);
    assert.deepEqual([job.missing, job.duplicated, job.wrong, job.errorLines, job.correct], [0, 0, 0, 0, job.rows], `batch job ${job.id}`);
  }
});
