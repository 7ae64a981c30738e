import { credentials, Metadata } from '@grpc/grpc-js';
import { RegistryAdminClient, type DescribeClusterResponse } from '@maas/protos';
import type { ClusterSnapshot } from '@maas/scheduler';
import { flagsHelp, parseFlags, type FlagSpec } from '../flags.js';

const STATUS_FLAGS: Record<string, FlagSpec> = {
  registry: { type: 'string', default: '127.0.0.1:8510', help: "registry's gRPC address (DescribeCluster)" },
  scheduler: { type: 'string', default: 'http://127.0.0.1:8501', help: "scheduler's REST base URL (its dashboard state: versions, traffic, batch jobs)" },
  timeout_ms: { type: 'int', default: 5000, help: 'how long to wait for each of them' },
  json: { type: 'bool', default: false, help: 'print both answers as JSON instead of tables' },
  help: { type: 'bool', default: false, help: 'print this help' },
};

function describeCluster(address: string, timeoutMs: number): Promise<DescribeClusterResponse> {
  const client = new RegistryAdminClient(address, credentials.createInsecure());
  return new Promise<DescribeClusterResponse>((resolve, reject) =>
    client.describeCluster({}, new Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) => (error ? reject(error) : resolve(response))),
  ).finally(() => client.close());
}

async function dashboardState(base: string, timeoutMs: number): Promise<ClusterSnapshot> {
  const response = await fetch(new URL('/dashboard/state', base), { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return (await response.json()) as ClusterSnapshot;
}

/** Left-aligned columns, two spaces apart. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((row) => row.map((cellText, i) => cellText.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

const fixed = (n: number | undefined, digits = 1) => (n === undefined || n === null ? '-' : n.toFixed(digits));
const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)}G`;

/** The cluster at a glance: the registry's placement and the scheduler's traffic, versions, queues and batch jobs. */
export function renderStatus(cluster: DescribeClusterResponse | undefined, state: ClusterSnapshot | undefined): string {
  const out: string[] = [];
  const traffic = new Map(state?.models.map((m) => [m.name, m]) ?? []);
  if (cluster) {
    out.push(`WORKERS (${cluster.workers.length})`);
    out.push(
      table(
        ['ID', 'ADDRESS', 'DEVICE', 'CORES', 'MEMORY', 'IN FLIGHT', 'READY MODELS', 'STATE'],
        cluster.workers.map((w) => [
          w.id.slice(0, 8),
          w.address,
          w.providers.join(','),
          String(w.cores),
          gib(Number(w.memoryBytes)),
          String(w.inFlight),
          w.readyModels.join(',') || '-',
          w.draining ? 'draining' : 'serving',
        ]),
      ),
    );
    out.push('', `MODELS (${cluster.models.length})`);
    out.push(
      table(
        ['NAME', 'VERSIONS', 'READY/WANTED', 'MIN..MAX', 'REQ/S', 'P50 MS', 'P95 MS', 'REASON'],
        cluster.models.map((m) => {
          const seen = traffic.get(m.name);
          return [
            m.name,
            seen?.versions.join(',') || '-',
            `${m.readyReplicas}/${m.wantedReplicas || seen?.replicasWanted || 0}`,
            `${m.minReplicas}..${m.maxReplicas}`,
            fixed(seen?.traffic?.requestsPerSecond),
            fixed(seen?.traffic?.p50Ms),
            fixed(seen?.traffic?.p95Ms),
            m.scalingReason,
          ];
        }),
      ),
    );
  } else if (state) {
    out.push(`MODELS (${state.models.length})`);
    out.push(
      table(
        ['NAME', 'VERSIONS', 'READY/WANTED', 'REQ/S', 'P50 MS', 'P95 MS'],
        state.models.map((m) => [m.name, m.versions.join(',') || '-', `${m.replicasReady}/${m.replicasWanted}`, fixed(m.traffic?.requestsPerSecond), fixed(m.traffic?.p50Ms), fixed(m.traffic?.p95Ms)]),
      ),
    );
  }
  if (state) {
    out.push('', 'QUEUES');
    out.push(table(['WORKER', 'IN FLIGHT'], state.queues.map((q) => [q.worker.slice(0, 8), String(q.inFlight)])));
    out.push('', 'BATCH JOBS');
    const jobs = state.batchJobs ?? [];
    out.push(
      jobs.length === 0
        ? 'none'
        : table(
            ['ID', 'MODEL', 'STATE', 'DONE/TOTAL', 'FAILED', 'PROGRESS'],
            jobs.map((j) => [j.id, j.model, j.state, `${j.rowsDone}/${j.totalRows}`, String(j.rowsFailed), j.totalRows ? `${Math.floor((100 * j.rowsDone) / j.totalRows)}%` : '-']),
          ),
    );
  }
  return out.join('\n');
}

/** `maas status`: DescribeCluster from the registry plus the scheduler's dashboard state, as tables. */
export async function statusCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, STATUS_FLAGS);
  if (flags.help) return console.log(`usage: maas status [flags]\n${flagsHelp(STATUS_FLAGS)}`);
  const timeoutMs = flags.timeout_ms as number;
  const [cluster, state] = await Promise.allSettled([describeCluster(flags.registry as string, timeoutMs), dashboardState(flags.scheduler as string, timeoutMs)]);
  if (cluster.status === 'rejected') console.error(`maas status: registry at ${String(flags.registry)}: ${(cluster.reason as Error).message}`);
  if (state.status === 'rejected') console.error(`maas status: scheduler at ${String(flags.scheduler)}: ${(state.reason as Error).message}`);
  if (cluster.status === 'rejected' && state.status === 'rejected') throw new Error('neither the registry nor the scheduler answered');
  const described = cluster.status === 'fulfilled' ? cluster.value : undefined;
  const snapshot = state.status === 'fulfilled' ? state.value : undefined;
  if (flags.json) {
    console.log(JSON.stringify({ cluster: described, scheduler: snapshot }, (_key, value: unknown) => (typeof value === 'bigint' ? Number(value) : value), 2));
    return;
  }
  console.log(renderStatus(described, snapshot));
}
