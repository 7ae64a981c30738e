import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runTarget } from '../../fuzz/target.js';
import { tensorCodecTarget } from '../../fuzz/targets/tensor-codec.js';
import { modelConfigTarget } from '../../fuzz/targets/model-config.js';
import { predictRequestTarget } from '../../fuzz/targets/predict-request.js';
import { restJsonTarget } from '../../fuzz/targets/rest-json.js';

/*
 * The CI budget of the fuzz targets (`npm run fuzz` runs them longer): a few hundred inputs each,
 * new ones every run. A failure prints fast-check's seed and path: replay it with
 * `npm run fuzz -- --target=<name> --seed=<seed>` and keep the input as a regression test.
 */

for (const [target, numRuns] of [
  [tensorCodecTarget, 2000],
  [modelConfigTarget, 2000],
  [predictRequestTarget, 400],
  [restJsonTarget, 400],
] as const) {
  test(`fuzz ${target.name}: ${numRuns} inputs`, async () => {
    const result = await runTarget(target as never, { numRuns });
    assert.ok(!result.failed, result.report);
    assert.equal(result.runs, numRuns);
  });
}
