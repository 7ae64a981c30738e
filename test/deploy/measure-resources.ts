/**
 * Measures what each cluster role uses, to size the Kubernetes resource requests in deploy/
 * (numbers go in docs/deploy.md, "Sizing"). Starts `maas up` with the demo classifier and one
 * worker, sends predictions through the scheduler one at a time, and reads from /proc of every
 * role: VmRSS and VmHWM (memory), and user + system CPU time over the predictions (CPU per
 * prediction; CPU time, not wall time, so other load on the machine does not inflate it).
 *
 *   node --import tsx test/deploy/measure-resources.ts [predictions=200]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { spawnRole } from '@maas/cli';
import { callUnary, loadTfServingClients } from '@maas/test-support';

const predictions = Number(process.argv[2] ?? 200);
const args = ['up', '--workers', '1', '--port=0', '--rest_api_port=-1', '--model_name=text_direction', '--model_base_path=models/text_direction'];
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

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

/** utime + stime of a process (all its threads, onnxruntime's included), in milliseconds. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

function sample(pid: number): { rssMiB: number; hwmMiB: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssMiB: Math.round(kib(status, 'VmRSS') / 1024), hwmMiB: Math.round(kib(status, 'VmHWM') / 1024), cpuMs: cpuMs(pid) };
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
  const started = performance.now();
  for (let i = 0; i < predictions; i++) await callUnary(clients.prediction, 'Predict', request, { deadlineMs: 30_000 });
  const seconds = (performance.now() - started) / 1000;
  const after = Object.fromEntries(roles(up.child.pid!).map(({ pid, role }) => [role, sample(pid)]));
  const cpu = Object.fromEntries(
    Object.entries(after).map(([role, a]) => {
      const used = a.cpuMs - (before[role]?.cpuMs ?? 0);
      // Per prediction for the roles on the request path; per second (millicores) for all.
      return [role, { msPerPrediction: Number((used / predictions).toFixed(2)), millicores: Math.round(used / seconds) }];
    }),
  );
  console.log(JSON.stringify({ command: `maas ${args.join(' ')}`, predictions, seconds: Number(seconds.toFixed(1)), afterFirstPrediction: before, afterPredictions: after, cpu }, null, 2));
} finally {
  clients.close();
  await up.stop();
}
