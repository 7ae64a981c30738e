import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { MAAS_BIN } from '@maas/cli';

/** Runs `maas up` with flags a role must reject, and returns its exit code and log once it gives up. */
async function upRejects(flags: string[]): Promise<{ code: number | null; log: string }> {
  const env = { ...process.env };
  delete env.REDIS_URL;
  const up = spawn(process.execPath, [MAAS_BIN, 'up', '--workers=1', '--port=0', '--rest_api_port=-1', '--model_name=text_direction', '--model_base_path=models/text_direction', ...flags], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  up.stdout.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  up.stderr.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  const timer = setTimeout(() => up.kill('SIGINT'), 60_000);
  const [code] = (await once(up, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, log };
}

// A value the role itself refuses shows the flag reached that role (`up` only checks its type).
test('maas up hands the autoscaling flags to its scheduler', async () => {
  const { code, log } = await upRejects(['--scale_target_in_flight=0']);
  assert.notEqual(code, 0, log);
  assert.match(log, /--scale_target_in_flight expects a positive number, got '0'/);
});

test('maas up hands the profiling flags to its workers', async () => {
  const { code, log } = await upRejects(['--profile_models', '--profile_batch_sizes=0']);
  assert.notEqual(code, 0, log);
  assert.match(log, /--profile_batch_sizes expects positive integers, got '0'/);
});
