// What onnxruntime alone does with this machine's cores, shaped like the cluster under test: one
// session with T intra-op threads, or K sessions of one thread each run concurrently (what K
// single-thread workers could do at most). One item per run, as the served scenarios send.
// Usage: node --import tsx bench/scenarios/cluster/compute-ceiling.ts '<CeilingJob JSON>'
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { defaultRuntimeOptions, OnnxModel } from '@maas/onnx-runtime';
import { elementsPerItem, inputValues, workload as workloadOf, type WorkloadRef } from '../../workloads.js';
import { runChildJob } from '../../child-job.js';

export interface CeilingJob {
  workload: WorkloadRef;
  modelFile: string;
  shapes: Array<{ sessions: number; threads: number }>;
  warmupSeconds: number;
  rounds: number;
  roundSeconds: number;
}

export interface CeilingResult {
  /** Items/s of each round, per shape, in the job's order. */
  points: Array<{ sessions: number; threads: number; itemsPerSec: number[] }>;
}

async function measure(job: CeilingJob): Promise<CeilingResult> {
  const w = workloadOf(job.workload);
  const shape = [1, ...w.itemShape];
  const feeds = { [w.input]: new ort.Tensor('float32', inputValues(elementsPerItem(shape)), shape) };
  const points: CeilingResult['points'] = [];
  for (const { sessions, threads } of job.shapes) {
    const model = await OnnxModel.load(job.modelFile, `${w.model}:ceiling`, { ...defaultRuntimeOptions(), instances: sessions, intraOpThreads: threads });
    try {
      // One loop per session: OnnxModel.run picks the least busy one.
      const runFor = async (seconds: number) => {
        const start = performance.now();
        const end = start + seconds * 1000;
        let runs = 0;
        const loop = async () => {
          while (performance.now() < end) {
            await model.run(feeds, [w.output]);
            runs++;
          }
        };
        await Promise.all(Array.from({ length: sessions }, loop));
        return (runs * 1000) / (performance.now() - start);
      };
      await runFor(job.warmupSeconds);
      const itemsPerSec: number[] = [];
      for (let i = 0; i < job.rounds; i++) itemsPerSec.push(await runFor(job.roundSeconds));
      points.push({ sessions, threads, itemsPerSec });
    } finally {
      await model.release();
    }
  }
  return { points };
}

runChildJob('compute-ceiling.ts', (job: CeilingJob) => measure(job));
