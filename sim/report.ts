import type { SimResult } from './simulation.js';

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const n = (x: number, digits = 1) => x.toLocaleString('en-US', { maximumFractionDigits: digits });

/** The result as the text `npm run sim` prints (and docs/scaling.md quotes). */
export function formatResult(r: SimResult): string {
  const c = r.config;
  const p = r.placement;
  return [
    `config ${c.name}: ${c.workers.cpu} cpu + ${c.workers.gpu} gpu workers, ${n(c.models)} models, ${c.durationS} s measured after a ${c.warmupS} s warm-up (day ${c.traffic.dayS} s, mean ${n(c.traffic.meanRps, 0)} requests/s), seed ${c.seed}; ran in ${n(r.wallMs / 1000)} s`,
    `requests: ${n(r.requests.total, 0)}, within objective ${pct(r.requests.withinObjective)} (worst ${c.sampleEveryS} s window ${pct(r.requests.worstWindowWithin)}), failed ${n(r.requests.failed, 0)}, retried after a worker failure ${n(r.requests.retriedAfterFailure, 0)}; latency p50 ${n(r.requests.p50Ms)} ms, p99 ${n(r.requests.p99Ms)} ms`,
    `outside objective: ${n(r.misses.slow, 0)} slow on the worker (queueing), ${n(r.misses.coldStart, 0)} waited for a cold start, ${n(r.misses.afterFailure, 0)} lost with a failed worker, ${n(r.misses.deadline, 0)} past their deadline; most: ${r.misses.topModels.map((m) => `${m.model} (rank ${m.rank}, ${m.misses})`).join(', ')}`,
    `cold starts: ${n(r.coldStarts.replicaLoads, 0)} replica loads from zero; ${n(r.coldStarts.requestsWaited, 0)} requests waited (${n(r.coldStarts.waitedWithinObjective, 0)} still within objective), their latency p50 ${n(r.coldStarts.waitP50Ms)} ms, p99 ${n(r.coldStarts.waitP99Ms)} ms`,
    `memory: replicas hold ${n(r.memory.meanUsedGiB)} GiB on average vs ${n(r.memory.meanIdealGiB)} GiB ideal packing = ${n(r.memory.usedOverIdeal, 3)}x (${n(r.memory.usedOverStrictIdeal, 3)}x an ideal that keeps no idle model warm); replicas ${n(r.memory.meanReplicas, 0)} vs ${n(r.memory.meanIdealReplicas, 0)} ideal; peak ${pct(r.memory.peakUsedOverFleetBudget)} of the fleet's model memory`,
    `devices: ${pct(r.devices.gpuModelReplicasOnGpu)} of GPU-model replicas on GPU workers, ${pct(r.devices.cpuModelReplicasOnCpu)} of the other replicas on CPU workers (means over samples); fullest GPU at ${pct(r.devices.fullestGpu)} of its memory`,
    `routing: ${n(r.routing.decisions, 0)} decisions, ${n(r.routing.cpuMicrosPerDecision, 2)} µs CPU each on average (p99 ${n(r.routing.cpuMicrosP99, 2)} µs; includes ~${n(r.routing.measurementOverheadMicros, 2)} µs of process.cpuUsage itself)`,
    `placement from scratch: ${n(p.fromScratch.models, 0)} models -> ${n(p.fromScratch.replicas, 0)} replicas on ${n(p.fromScratch.workers, 0)} workers: autoscaler ${n(p.fromScratch.planCpuMs)} ms + placeModels ${n(p.fromScratch.placeCpuMs)} ms CPU`,
    `placement rounds: ${n(p.rounds, 0)} every ${c.control.placementMs} ms, CPU per round: autoscaler ${n(p.cpuMsPerRound.plan)} ms, placeModels ${n(p.cpuMsPerRound.place)} ms, status ${n(p.cpuMsPerRound.status)} ms (max round ${n(p.cpuMsPerRound.max)} ms); ${n(p.replicaChanges, 0)} replica loads/unloads (${n(p.changesPerSimSecond, 2)}/s); placeModels decides ${n(p.modelsDecidedPerCpuSecond, 0)} models per CPU second`,
    `scaling: ${n(r.scaling.scaleUps, 0)} scale-ups, ${n(r.scaling.scaleDowns, 0)} scale-downs, ${n(r.scaling.downsWithinDelayOfUp, 0)} scale-downs within the scale-down delay of a scale-up (flapping); missing workers at most ${n(r.scaling.maxMissingWorkers, 0)}, removable workers ${n(r.scaling.meanRemovableWorkers)} on average; ${r.failures.workersFailed} worker failures`,
  ].join('\n');
}
