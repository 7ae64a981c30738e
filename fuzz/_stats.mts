import fc from 'fast-check';
import { predictRequest } from './arbitraries.ts';
import { MODEL_INPUTS, serveModels } from './models.ts';
const served = await serveModels();
let n = 0;
for (const req of fc.sample(predictRequest(MODEL_INPUTS), 200)) {
  try { await served.backend.predict(req, {}); n++ } catch {}
}
console.log('ok', n);
await served.stop();
