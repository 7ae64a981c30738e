import assert from 'node:assert/strict';
import { test } from 'node:test';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { MAAS_BIN } from '@maas/cli';
import { callUnary, loadTfServingClients } from '@maas/test-support';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('maas up --workers 2 serves the demo model through the scheduler and stops everything on Ctrl-C', async () => {
  const env = { ...process.env };
  delete env.REDIS_URL; // make `up` start its own redis-server
  const up = spawn(process.execPath, [MAAS_BIN, 'up', '--workers=2', '--port=0', '--rest_api_port=-1', '--model_name=text_direction', '--model_base_path=models/text_direction'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  up.stderr.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  const ready = await new Promise<{ grpcPort: number; restPort: number; workers: Array<{ pid: number }> }>((resolve, reject) => {
    createInterface({ input: up.stdout }).on('line', (line) => line.startsWith('{') && resolve(JSON.parse(line)));
    up.once('exit', (code) => reject(new Error(`maas up exited with ${code}:\n${log}`)));
  });
  const clients = loadTfServingClients(`127.0.0.1:${ready.grpcPort}`);
  try {
    const request = {
      model_spec: { name: 'text_direction' },
      inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [1, 3, 48, 192].map((size) => ({ size: String(size) })) }, tensor_content: Buffer.alloc(3 * 48 * 192 * 4) } },
    };
    let response: { outputs: Record<string, { tensor_content: Buffer; tensor_shape: { dim: Array<{ size: string }> } }> } | undefined;
    for (let i = 0; i < 100 && !response; i++) {
      response = await callUnary<NonNullable<typeof response>>(clients.prediction, 'Predict', request, { deadlineMs: 5000 }).catch(() => undefined);
      if (!response) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(response, `no prediction through the scheduler:\n${log}`);
    const probabilities = response.outputs['softmax_0.tmp_0']!;
    assert.deepEqual(probabilities.tensor_shape.dim.map((d) => d.size), ['1', '2']);
    const [p0, p1] = new Float32Array(new Uint8Array(probabilities.tensor_content).buffer);
    assert.ok(Math.abs(p0! + p1! - 1) < 1e-4, `softmax sums to 1: ${p0} + ${p1}`);
    const rest = await fetch(`http://127.0.0.1:${ready.restPort}/v1/models/text_direction`).then((r) => r.json() as Promise<{ model_version_status: Array<{ state: string }> }>);
    assert.equal(rest.model_version_status[0]?.state, 'AVAILABLE');
    // A role that dies is reported, not restarted; the others keep running.
    process.kill(ready.workers[1]!.pid, 'SIGKILL');
    for (let i = 0; i < 50 && !/worker-2 \(pid \d+\) exited unexpectedly \(SIGKILL\)/.test(log); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(log, /worker-2 \(pid \d+\) exited unexpectedly \(SIGKILL\); the rest of the cluster keeps running without it/);
  } finally {
    clients.close();
    up.kill('SIGINT');
    const [code] = await once(up, 'exit');
    assert.equal(code, 0, log);
  }
  // Roles stopped by Ctrl-C are not reported as deaths.
  assert.doesNotMatch(log, /(worker-1|registry|scheduler) \(pid \d+\) exited unexpectedly/);
  for (const worker of ready.workers) assert.ok(!alive(worker.pid), `worker ${worker.pid} stopped`);
});
