import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SMALL } from '../../sim/config.js';
import { Simulation } from '../../sim/simulation.js';

/**
 * The simulator's CI configuration (20 workers, 300 models, ten simulated minutes with a compressed
 * day, bursts and a worker failure) through the real placement, routing and autoscaling modules.
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
  });

  test('without horizontal scaling (a target no load reaches) fewer requests meet their objective: the simulation sees the autoscaler', () => {
    const config = { ...SMALL, durationS: 200 };
    const scaled = new Simulation(config).run();
    const unscaled = new Simulation({ ...config, scaling: { ...config.scaling, targetInFlight: 10_000 } }).run();
    console.log(`within objective: autoscaled ${(scaled.requests.withinObjective * 100).toFixed(2)} %, one replica per model ${(unscaled.requests.withinObjective * 100).toFixed(2)} %`);
    assert.ok(unscaled.requests.withinObjective < scaled.requests.withinObjective - 0.01);
  });
});
