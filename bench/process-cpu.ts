// Where a process's CPU goes, split by thread (the cluster rows: scheduler, every worker, the load
// generator; rest-vs-grpc: its servers), read from /proc/<pid>/task/<tid>/schedstat (nanoseconds;
// /proc/<pid>/stat only counts 10 ms ticks). Linux only; elsewhere the readings are empty.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** CPU ms so far per thread of one process: 'main' for the main thread, the thread id for the others (Node names its threads alike). */
export type ThreadCpu = Map<string, number>;

export function threadCpuMs(pid: number): ThreadCpu {
  const byThread: ThreadCpu = new Map();
  const dir = `/proc/${pid}/task`;
  if (!existsSync(dir)) return byThread;
  for (const tid of readdirSync(dir)) {
    try {
      const ns = Number(readFileSync(`${dir}/${tid}/schedstat`, 'utf8').split(' ')[0]);
      byThread.set(tid === String(pid) ? 'main' : tid, ns / 1e6);
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return byThread;
}

/** CPU ms per thread name used between two readings (a thread that ended drops out: only long-lived threads are meant). */
export function cpuSince(before: ThreadCpu, after: ThreadCpu): ThreadCpu {
  const used: ThreadCpu = new Map();
  for (const [name, ms] of after) used.set(name, ms - (before.get(name) ?? 0));
  return used;
}

export function totalMs(cpu: ThreadCpu): number {
  let sum = 0;
  for (const ms of cpu.values()) sum += ms;
  return sum;
}

/** "4.10 (main 1.20, threads 2.80 + 0.10)": per-request ms of the whole process, its main thread and its busiest other threads. */
export function describePerRequest(cpu: ThreadCpu, requests: number, threads = 2): string {
  const per = (ms: number) => (ms / requests).toFixed(2);
  const others = [...cpu].filter(([tid]) => tid !== 'main').map(([, ms]) => ms).sort((a, b) => b - a);
  const shown = others.slice(0, threads).filter((ms) => ms / requests >= 0.01);
  const rest = others.slice(threads).reduce((s, ms) => s + ms, 0);
  const parts = [`main ${per(cpu.get('main') ?? 0)}`];
  if (shown.length) parts.push(`threads ${shown.map(per).join(' + ')}${rest / requests >= 0.01 ? ` + rest ${per(rest)}` : ''}`);
  return `${per(totalMs(cpu))} (${parts.join(', ')})`;
}
