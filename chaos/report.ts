import type { ChaosReport } from './scenario.js';

/** The targets a chaos run must meet. */
export const TARGET_SUCCESS_RATE = 0.999;

/** Whether the run met every target: success rate, recovery from each fault, exactly one result per batch row. */
export function meetsTargets(report: ChaosReport): boolean {
  const batchOk = report.batch.every((b) => b.state === 'COMPLETED' && b.missing === 0 && b.duplicated === 0 && b.wrong === 0 && b.errorLines === 0);
  return report.successRate >= TARGET_SUCCESS_RATE && report.faults.every((f) => f.recoveredAfterMs !== undefined) && batchOk;
}

export function printReport(report: ChaosReport): boolean {
  console.log(`requests: ${report.requests}, success ${(report.successRate * 100).toFixed(3)} % (target ${TARGET_SUCCESS_RATE * 100} %), retried attempts ${report.retried}`);
  console.log(`final outcomes: ${JSON.stringify(report.outcomes)}`);
  console.log(`failed attempts on the way: ${JSON.stringify(report.attemptErrors)}`);
  console.log(`${'fault'.padEnd(58)} longest outage   recovered after`);
  for (const f of report.faults) {
    console.log(`${`${f.fault} (${f.target})`.slice(0, 58).padEnd(58)} ${`${f.outageMs} ms`.padStart(14)}   ${f.recoveredAfterMs === undefined ? 'NOT RECOVERED' : `${f.recoveredAfterMs} ms`}`);
  }
  for (const b of report.batch) {
    console.log(`batch ${b.id.slice(0, 8)}: ${b.state}, ${b.rows} rows: ${b.correct} correct, ${b.missing} missing, ${b.duplicated} duplicated, ${b.errorLines} error lines, ${b.wrong} wrong`);
  }
  const ok = meetsTargets(report);
  console.log(ok ? 'chaos: all targets met' : 'chaos: TARGETS MISSED');
  return ok;
}
