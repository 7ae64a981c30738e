// The cluster scenarios of `npm run bench`: the scheduler hop and scale-out, on real clusters
// (redis-server, registry, scheduler, workers as processes). Alone: bench/scenarios/cluster/main.ts.
import { availableParallelism } from 'node:os';
import { startLocalRedis } from '@maas/cli';
import { cpuSeconds } from '../../processes.js';
import type { Ratio, Target } from '../../report.js';
import { workload } from '../../workloads.js';
import type { BenchContext } from '../context.js';
import { hopScenario } from './hop.js';
import { startLocalCluster, type LocalCluster } from './local-cluster.js';
import { SCALE_OUT_MODELS, scaleOutScenario } from './scale-out.js';

export interface ClusterResult {
  ratios: Ratio[];
  targets: Target[];
}

/** CPU the scheduler and the worker use with no requests at all (Redis polling, placement, dashboard): a fixed tax on 2 cores. */
async function idleCpu(cluster: LocalCluster, seconds = 3): Promise<string> {
  const pids = { scheduler: cluster.schedulerPid, worker: cluster.workers[0]!.pid };
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const share = (k: keyof typeof pids) => {
    const end = cpuSeconds(pids[k]);
    return end === undefined || before[k] === undefined ? '?' : `${(((end - before[k]!) / seconds) * 100).toFixed(1)} %`;
  };
  return `idle CPU with no requests (share of one core over ${seconds} s): scheduler ${share('scheduler')}, worker ${share('worker')}`;
}

/** Starts the clusters, runs the hop and scale-out scenarios, stops everything whichever way it ends. */
export async function clusterScenarios(ctx: BenchContext): Promise<ClusterResult> {
  const cores = availableParallelism();
  const narrow = Math.max(1, Math.floor(cores / 2));
  ctx.progress(`cluster: starting redis-server and three clusters (1 worker×${cores}t, 1 worker×${narrow}t, 2 workers×${narrow}t)`);
  const redis = await startLocalRedis();
  // redis-server is not one of bench/processes' children: on SIGINT or an error exit, stop it too
  // (stop() signals it synchronously).
  const stopRedis = () => void redis.stop();
  process.once('exit', stopRedis);
  const clusters: LocalCluster[] = [];
  try {
    const base = { redisUrl: redis.url, modelConfigFile: ctx.repo.configFile };
    const started = await Promise.allSettled([
      startLocalCluster({ ...base, name: 'one-wide', workers: 1, intraOpThreads: cores }),
      startLocalCluster({ ...base, name: 'one-narrow', workers: 1, intraOpThreads: narrow }),
      startLocalCluster({ ...base, name: 'two', workers: 2, intraOpThreads: narrow }),
    ]);
    for (const s of started) if (s.status === 'fulfilled') clusters.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const [oneWide, oneNarrow, two] = clusters as [LocalCluster, LocalCluster, LocalCluster];
    const models = SCALE_OUT_MODELS.map((m) => workload(m.ref).model);
    await Promise.all(models.map((m) => two.setReplicas(m, 2)));
    // Every model of the repository on the single workers; the scale-out models on both of `two`'s.
    await Promise.all([
      ...[oneWide, oneNarrow].flatMap((c) => Object.keys(ctx.repo.files).map((m) => c.waitForReplicas(m, 1))),
      ...models.map((m) => two.waitForReplicas(m, 2)),
    ]);
    ctx.notes.push(await idleCpu(oneWide));
    const hop = await hopScenario(ctx, oneWide);
    const scale = await scaleOutScenario(ctx, { oneWide, oneNarrow, two });
    ctx.notes.push(...hop.notes, ...scale.notes);
    return { ratios: [...hop.ratios, ...scale.ratios], targets: [...hop.targets, ...scale.targets] };
  } finally {
    await Promise.all(clusters.map((c) => c.stop()));
    process.off('exit', stopRedis);
    await redis.stop();
  }
}
