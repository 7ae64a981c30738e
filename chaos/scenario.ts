import { BatchJob_State } from '@maas/protos';
import { BatchJobs, type BatchCheck } from './batch.js';
import { ChaosCluster } from './cluster.js';
import { FAULTS } from './faults.js';
import { SteadyLoad } from './load.js';
import { ProbeMonitor } from './probe.js';

export interface ChaosOptions {
  workers: number;
  replicas: number;
  /** Fault names (keys of FAULTS), in order. */
  faults: string[];
  /** Quiet time between faults. */
  settleMs: number;
  /** A fault not recovered from within this counts as not recovered. */
  recoverTimeoutMs: number;
  clients: number;
  deadlineMs: number;
  /** Rows of the batch job submitted before each fault, which hits once the job is running (0: no batch jobs). */
  batchRows: number;
  rowsPerChunk: number;
  seed: number;
  log: (line: string) => void;
}

export interface FaultReport {
  fault: string;
  target: string;
  /** The longest time no probe request succeeded while the fault played out (0: serving never stopped). */
  outageMs: number;
  /** From the fault until every part was back: the running workers reporting, the model's replicas ready, and the fault's own check. */
  recoveredAfterMs?: number;
}

export interface ChaosReport {
  requests: number;
  successRate: number;
  outcomes: Record<string, number>;
  /** Codes of attempts that failed on the way (retried ones included). */
  attemptErrors: Record<string, number>;
  retried: number;
  faults: FaultReport[];
  batch: BatchCheck[];
}

/** A deterministic random source, so a run can be replayed with its seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * Starts a cluster, puts steady load on it, then hits it with each fault in turn (a batch job
 * submitted before each), measuring how long serving and full health take to come back; finally
 * checks that every batch job has exactly one result line per row.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const random = mulberry32(options.seed);
  const cluster = new ChaosCluster(options.workers, options.replicas, options.log);
  const reports: FaultReport[] = [];
  let batch: BatchJobs | undefined;
  let load: SteadyLoad | undefined;
  const probes = new ProbeMonitor(cluster);
  try {
    await cluster.start();
    if (!(await until(() => cluster.healthy(), 60_000))) throw new Error('the cluster never became healthy');
    const address = `127.0.0.1:${cluster.schedulerPort}`;
    load = new SteadyLoad(address, { clients: options.clients, deadlineMs: options.deadlineMs });
    batch = options.batchRows > 0 ? new BatchJobs(address, cluster.root) : undefined;
    load.start();
    probes.start();
    for (const name of options.faults) {
      const fault = FAULTS[name];
      if (!fault) throw new Error(`no fault ${name}`);
      await new Promise((r) => setTimeout(r, options.settleMs));
      const job = await batch?.submit(options.batchRows, options.rowsPerChunk);
      if (job) await until(async () => (await batch!.state(job)).rowsDone > 0n, 30_000);
      const started = Date.now();
      const target = await fault.inject(cluster, random);
      const jobState = job && BatchJob_State[(await batch!.state(job)).state];
      const recovered = await until(async () => (await cluster.healthy()) && (await cluster.probe()) && (await (fault.recovered?.(cluster) ?? Promise.resolve(true))), options.recoverTimeoutMs);
      const report: FaultReport = { fault: fault.name, target, outageMs: probes.longestOutage(started, Date.now()), recoveredAfterMs: recovered ? Date.now() - started : undefined };
      options.log(`${fault.name} on ${target}: longest outage ${report.outageMs} ms, recovered ${recovered ? `after ${report.recoveredAfterMs} ms` : 'NOT within the limit'}${job ? `; batch job ${job.slice(0, 8)} was running when it hit, ${jobState} when it ended` : ''}`);
      reports.push(report);
      fault.cleanUp?.(cluster);
    }
    await probes.stop();
    const record = await load.stop();
    load = undefined;
    const checks = (await batch?.checkAll(120_000)) ?? [];
    return {
      requests: record.total,
      successRate: record.successRate,
      outcomes: Object.fromEntries(record.outcomes),
      attemptErrors: Object.fromEntries(record.attemptErrors),
      retried: record.retried,
      faults: reports,
      batch: checks,
    };
  } finally {
    await probes.stop();
    await load?.stop();
    batch?.close();
    await cluster.stop();
  }
}
