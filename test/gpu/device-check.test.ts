import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { probeProviders } from '@maas/onnx-runtime';

test('GPU device check (needs a usable webgpu provider)', async (t) => {
  const webgpu = (await probeProviders()).find((p) => p.name === 'webgpu');
  if (!webgpu?.usable) {
    t.skip(`no GPU here: webgpu is not usable (${webgpu?.reason ?? 'not listed by onnxruntime'}); run test/gpu/device-check.ts on a GPU host`);
    return;
  }
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'device-check.ts'), '--quick'], { encoding: 'utf8', timeout: 5 * 60_000 });
  assert.equal(result.status, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /GPU and CPU outputs agree/);
});
