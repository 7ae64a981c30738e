import { parseArgs } from 'node:util';
import { runTarget, type FuzzTarget } from './target.js';
import { grpcMethodsTarget } from './targets/grpc-methods.js';
import { modelConfigTarget } from './targets/model-config.js';
import { predictRequestTarget } from './targets/predict-request.js';
import { restJsonTarget } from './targets/rest-json.js';
import { tensorCodecTarget } from './targets/tensor-codec.js';

/*
 * `npm run fuzz`: every target for a longer budget than CI's (test/fuzz), new random inputs each
 * time. Options: --seconds=N per target (default 60), --runs=N cap, --target=name (repeatable),
 * --seed=N to replay a failure fast-check reported. Exits 1 if any target found a failing input.
 */

const TARGETS: FuzzTarget<never>[] = [tensorCodecTarget, modelConfigTarget, predictRequestTarget, restJsonTarget, grpcMethodsTarget] as FuzzTarget<never>[];

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    runs: { type: 'string', default: '1000000' },
    target: { type: 'string', multiple: true },
    seed: { type: 'string' },
  },
});

const chosen = values.target?.length ? TARGETS.filter((t) => values.target!.includes(t.name)) : TARGETS;
if (chosen.length === 0) {
  console.error(`no such target; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
  process.exit(2);
}
let failures = 0;
for (const target of chosen) {
  const started = Date.now();
  const result = await runTarget(target, {
    numRuns: Number(values.runs),
    timeLimitMs: Number(values.seconds) * 1000,
    seed: values.seed === undefined ? undefined : Number(values.seed),
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${result.failed ? 'FAIL' : 'ok  '} ${target.name.padEnd(16)} ${String(result.runs).padStart(8)} inputs in ${seconds} s`);
  if (result.failed) {
    failures++;
    console.log(result.report);
  }
}
process.exit(failures > 0 ? 1 : 0);
