/**
 * Measures the resident memory of each cluster role, to size the Kubernetes resource requests in
 * deploy/ (numbers go in docs/deploy.md). Starts `maas up` with the demo classifier and one worker,
 * sends predictions through the scheduler, then reads VmRSS and VmHWM of every role from /proc.
 *
 *   node --import tsx test/deploy/measure-rss.ts [predictions=200]
 */
import { readFileSync } from 'node:fs';
import { spawnRole } from '@maas/cli';
import { callUnary, loadTfServingClients } from '@maas/test-support';

const predictions = Number(process.argv[2] ?? 200);
const args = ['up', '--workers', '1', '--port=0', '--rest_api_port=-1', '--model_name=text_direction', '--model_base_path=models/text_direction'];

function kib(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} in /proc status`);
  return Number(match[1]);
}

/** Direct children of a process, with the maas role each runs (its first argument after bin/maas.js). */
function roles(pid: number): { pid: number; role: string }[] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return children.map((child) => {
    const argv = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0');
    const bin = argv.findIndex((a) => a.endsWith('bin/maas.js'));
    return { pid: child, role: bin >= 0 ? (argv[bin + 1] ?? '?') : argv[0]! };
  });
}

function sample(pid: number): { rssMiB: number; hwmMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssMiB: Math.round(kib(status, 'VmRSS') / 1024), hwmMiB: Math.round(kib(status, 'VmHWM') / 1024) };
}

const up = await spawnRole(args, { timeoutMs: 120_000 });
const clients = loadTfServingClients(`127.0.0.1:${up.ready.grpcPort}`);
try {
  const image = Buffer.from(new Float32Array(3 * 48 * 192).fill(0.5).buffer);
  const request = {
    model_spec: { name: 'text_direction' },
    inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }, { size: '3' }, { size: '48' }, { size: '192' }] }, tensor_content: image } },
  };
  // The first prediction waits (bounded) for placement to load the model on the worker.
  for (let attempt = 0; ; attempt++) {
    const ok = await callUnary(clients.prediction, 'Predict', request, { deadlineMs: 30_000 }).then(() => true, () => false);
    if (ok) break;
    if (attempt >= 300) throw new Error('the model did not become ready within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const before = Object.fromEntries(roles(up.child.pid!).map(({ pid, role }) => [role, sample(pid)]));
  for (let i = 0; i < predictions; i++) await callUnary(clients.prediction, 'Predict', request, { deadlineMs: 30_000 });
  const after = Object.fromEntries(roles(up.child.pid!).map(({ pid, role }) => [role, sample(pid)]));
  console.log(JSON.stringify({ command: `maas ${args.join(' ')}`, predictions, afterFirstPrediction: before, afterPredictions: after }, null, 2));
} finally {
  clients.close();
  await up.stop();
}
