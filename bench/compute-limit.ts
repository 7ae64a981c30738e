// The compute limit: onnxruntime in this process, no server, with the session options maas uses.
// Sweeps batch sizes and prints one JSON line: items/s per batch size and the best of them.
// Usage: node --import tsx bench/compute-limit.ts '<ComputeJob JSON>'
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { OnnxModel } from '@maas/onnx-runtime';
import { summarizeLatencies, spread, SampleBuffer } from './stats.js';
import { elementsPerItem, inputValues, workload as workloadOf, type WorkloadRef } from './workloads.js';
import { runChildJob } from './child-job.js';

export interface ComputeJob {
  workload: WorkloadRef;
  modelFile: string;
  batchSizes: number[];
  warmupSeconds: number;
  rounds: number;
  roundSeconds: number;
  /** Bounds each round by count as well as by time. */
  maxRunsPerRound: number;
}

export interface ComputePoint {
  batch: number;
  /** Per round, so the report can show median and min–max like the served rows. */
  itemsPerSec: number[];
  p50Ms: number[];
  p95Ms: number[];
  p99Ms: number[];
}

export interface ComputeResult {
  points: ComputePoint[];
  best: { batch: number; itemsPerSec: number };
}

async function sweep(job: ComputeJob): Promise<ComputeResult> {
  const workload = workloadOf(job.workload);
  const model = await OnnxModel.load(job.modelFile, `${workload.model}:bench`);
  const points: ComputePoint[] = [];
  try {
    for (const batch of job.batchSizes) {
      const shape = [batch, ...workload.itemShape];
      const feeds = { [workload.input]: new ort.Tensor('float32', inputValues(elementsPerItem(shape)), shape) };
      const runFor = async (seconds: number) => {
        const latencies = new SampleBuffer(job.maxRunsPerRound);
        const start = performance.now();
        const end = start + seconds * 1000;
        // Sequential runs, as in maas: one session runs one batch at a time; the session's
        // intra-op threads are what use more cores.
        while (performance.now() < end && !latencies.full) {
          const t = performance.now();
          await model.run(feeds, [workload.output]);
          latencies.push(performance.now() - t);
        }
        const { p50Ms, p95Ms, p99Ms } = summarizeLatencies(latencies.view());
        return { itemsPerSec: (latencies.length * batch * 1000) / (performance.now() - start), p50Ms, p95Ms, p99Ms };
      };
      await runFor(job.warmupSeconds);
      const rounds = [];
      for (let i = 0; i < job.rounds; i++) rounds.push(await runFor(job.roundSeconds));
      points.push({
        batch,
        itemsPerSec: rounds.map((r) => r.itemsPerSec),
        p50Ms: rounds.map((r) => r.p50Ms),
        p95Ms: rounds.map((r) => r.p95Ms),
        p99Ms: rounds.map((r) => r.p99Ms),
      });
    }
  } finally {
    await model.release();
  }
  // By best round: interference only ever slows a round down (see scenarios/targets.ts).
  const bests = points.map((p) => ({ batch: p.batch, itemsPerSec: spread(p.itemsPerSec).max }));
  const best = bests.reduce((a, b) => (b.itemsPerSec > a.itemsPerSec ? b : a));
  return { points, best };
}

runChildJob('compute-limit.ts', (job: ComputeJob) => sweep(job));
