// `node --import tsx bench/scaling-step.ts [--workers=2] [--threads=1] [--clients=50] [--target=4] [--objective_ms=300] [--json=FILE]`
//
// A real local cluster (redis-server, registry, N workers, scheduler: separate processes, default
// heartbeat/refresh/placement periods and autoscaling delays) under a step from 1 to `clients`
// closed-loop gRPC clients. Each worker runs its sessions on `threads` cores, so on a small machine
// another replica adds real capacity only while workers × threads fits the cores. Measures how
// long after the step the autoscaler asks for the new replica count, how long until those replicas
// are ready, and the first second from which the clients' p95 latency stays within the objective
// for 5 s running. Prints a per-second timeline and a summary.
import { loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { ScalingCluster } from '../test/scaling/scaling-harness.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const workers = Number(args.workers ?? 2);
const threads = Number(args.threads ?? 1);
const clients = Number(args.clients ?? 50);
const target = Number(args.target ?? 4);
const objectiveMs = Number(args.objective_ms ?? 300);
/** The objective counts as reached when this many consecutive seconds keep p95 within it. */
const SUSTAINED_S = 5;
const baselineS = 15;
const stepS = 45;

interface Second {
  t: number;
  clients: number;
  wanted: number;
  ready: number;
  requests: number;
  failed: number;
  p95Ms: number;
}

const p95 = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)] ?? 0;
};

async function main(): Promise<void> {
  const cluster = new ScalingCluster(
    ['--refresh_ms=250', '--placement_ms=1000', `--scale_target_in_flight=${target}`],
    ['--heartbeat_ms=1000', `--intra_op_threads=${threads}`, '--session_instances=1'],
  );
  const loadAtStart = loadavg();
  const base = cluster.writeSlowAdder('step');
  await cluster.start(workers, 'step', base);
  try {
    await cluster.waitFor('the model to be served', async () => (await cluster.predict('step', 1))[1] === 2, 60_000);
    await cluster.setScaling('step', 1, workers, {});

    let active = 1;
    let stop = false;
    let latencies: number[] = [];
    let failed = 0;
    const client = async (index: number) => {
      while (!stop) {
        if (index >= active) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        const started = performance.now();
        try {
          await cluster.predict('step', index, 10_000);
          latencies.push(performance.now() - started);
        } catch {
          failed++;
        }
      }
    };
    const loops = Array.from({ length: clients }, (_, i) => client(i));

    const timeline: Second[] = [];
    const startedAt = Date.now();
    let stepAt = 0;
    for (let s = 1; s <= baselineS + stepS; s++) {
      if (s === baselineS + 1) {
        active = clients;
        stepAt = Date.now();
      }
      await new Promise((r) => setTimeout(r, startedAt + s * 1000 - Date.now()));
      const model = (await cluster.describe()).models.find((m) => m.name === 'step')!;
      timeline.push({ t: s - baselineS, clients: active, wanted: model.wantedReplicas, ready: model.readyReplicas, requests: latencies.length, failed, p95Ms: p95(latencies) });
      latencies = [];
      failed = 0;
    }
    stop = true;
    await Promise.all(loops);

    const after = timeline.filter((x) => x.t > 0);
    const peak = Math.max(...after.map((x) => x.wanted));
    const wantedAt = after.find((x) => x.wanted === peak)?.t;
    const readyAt = after.find((x) => x.ready === peak)?.t;
    const within = (x: Second) => x.requests > 0 && x.p95Ms <= objectiveMs;
    const objectiveAt = after.find((_, i) => i + SUSTAINED_S <= after.length && after.slice(i, i + SUSTAINED_S).every(within))?.t;
    const afterReady = readyAt === undefined ? [] : after.filter((x) => x.t >= readyAt);
    const beforeReady = after.filter((x) => readyAt === undefined || x.t < readyAt);
    const baseline = timeline.filter((x) => x.t <= 0);
    const summary = {
      workers,
      threadsPerWorker: threads,
      clients,
      targetInFlight: target,
      objectiveMs,
      baselineReplicas: baseline[baseline.length - 1]?.wanted,
      newReplicaCount: peak,
      wantedAfterS: wantedAt,
      readyAfterS: readyAt,
      objectiveSustainedFromS: objectiveAt ?? null,
      secondsWithinObjectiveAfterReady: `${afterReady.filter(within).length} of ${afterReady.length}`,
      requestsPerSecondStepBeforeReady: Math.round(beforeReady.reduce((sum, x) => sum + x.requests, 0) / Math.max(1, beforeReady.length)),
      requestsPerSecondAfterReady: Math.round(afterReady.reduce((sum, x) => sum + x.requests, 0) / Math.max(1, afterReady.length)),
      failedRequests: timeline.reduce((sum, x) => sum + x.failed, 0),
      requests: timeline.reduce((sum, x) => sum + x.requests, 0),
      stepAt: new Date(stepAt).toISOString(),
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: loadavg(),
    };
    console.log(' t(s) clients wanted ready  req/s failed  p95(ms)');
    for (const x of timeline) console.log(`${String(x.t).padStart(5)} ${String(x.clients).padStart(7)} ${String(x.wanted).padStart(6)} ${String(x.ready).padStart(5)} ${String(x.requests).padStart(6)} ${String(x.failed).padStart(6)} ${x.p95Ms.toFixed(1).padStart(8)}`);
    console.log(JSON.stringify(summary, null, 2));
    if (args.json) writeFileSync(args.json, JSON.stringify({ summary, timeline }, null, 2));
  } finally {
    await cluster.stop();
  }
}

await main();
