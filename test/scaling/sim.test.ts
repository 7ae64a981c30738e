import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SMALL } from '../../sim/config.js';
import { Simulation } from '../../sim/simulation.js';

/**
 * The simulator's CI configuration (20 workers, 6 of them with small GPUs; 300 models, 30 % of them
 * GPU models; ten simulated minutes with a compressed day, bursts and a worker failure) through the
 * real placement, routing and autoscaling modules.
 * Everything asserted is in simulated time with a fixed seed, so it is deterministic; the CPU
 * numbers it prints are not asserted (benchmarks are for that).
 */
describe('fleet simulator (small configuration)', () => {
  test('diurnal load with bursts and failures: >= 99 % within objective, memory <= 1.2x ideal, scale to zero and back', () => {
    const result = new Simulation(SMALL).run();
    const r = result.requests;
    console.log(
      `small sim: ${r.total} requests, ${(r.withinObjective * 100).toFixed(2)} % within objective, memory ${result.memory.usedOverIdeal.toFixed(3)}x ideal, ` +
        `${result.coldStarts.replicaLoads} cold starts, ${result.scaling.scaleUps} ups / ${result.scaling.scaleDowns} downs, routing ${result.routing.cpuMicrosPerDecision.toFixed(2)} µs CPU`,
    );
    assert.ok(r.total > 50_000, `the load ran: ${r.total}`);
    assert.ok(r.withinObjective >= 0.99, `within objective ${r.withinObjective}`);
    assert.ok(r.failed / r.total < 0.001, `failed ${r.failed}`);
    assert.ok(result.memory.usedOverIdeal <= 1.2, `memory ${result.memory.usedOverIdeal}x ideal`);
    assert.ok(result.scaling.scaleUps > 0 && result.scaling.scaleDowns > 0, 'the autoscaler moved both ways');
    assert.ok(result.coldStarts.replicaLoads > 0 && result.coldStarts.requestsWaited > 0, 'models went to zero and came back');
    assert.ok(result.failures.workersFailed > 0, 'a worker failed');
    assert.ok(result.routing.decisions >= r.total - r.failed, 'every served request was routed by the real picker');
    assert.equal(result.placement.fromScratch.replicas, SMALL.models, 'every model placed from scratch');
    // GPU memory is scarce in this configuration: GPU models fill the GPUs, never past them, and spill to CPU workers.
    const d = result.devices;
    console.log(`devices: ${(d.gpuModelReplicasOnGpu * 100).toFixed(1)} % of GPU-model replicas on GPU workers, ${(d.cpuModelReplicasOnCpu * 100).toFixed(1)} % of the others on CPU workers, fullest GPU ${(d.fullestGpu * 100).toFixed(1)} %`);
    assert.ok(d.fullestGpu <= 1, `a GPU held more than its memory: ${d.fullestGpu}`);
    assert.ok(d.fullestGpu > 0.5, `GPU memory bound placement: ${d.fullestGpu}`);
    assert.ok(d.gpuModelReplicasOnGpu >= 0.5 && d.gpuModelReplicasOnGpu < 1, `GPU models on GPU workers as far as they fit: ${d.gpuModelReplicasOnGpu}`);
    assert.ok(d.cpuModelReplicasOnCpu >= 0.99, `CPU models kept off the GPU workers: ${d.cpuModelReplicasOnCpu}`);
  });

  test('without horizontal scaling (a target no load reaches) fewer requests meet their objective: the simulation sees the autoscaler', () => {
    const config = { ...SMALL, durationS: 200 };
    const scaled = new Simulation(config).run();
    const unscaled = new Simulation({ ...config, scaling: { ...config.scaling, targetInFlight: 10_000 } }).run();
    console.log(`within objective: autoscaled ${(scaled.requests.withinObjective * 100).toFixed(2)} %, one replica per model ${(unscaled.requests.withinObjective * 100).toFixed(2)} %`);
    assert.ok(unscaled.requests.withinObjective < scaled.requests.withinObjective - 0.01);
  });
});
