// `npm run bench [-- --quick] [-- --soak N]`: measures maas's served path next to its limits, all
// in this run: onnxruntime in-process (compute), a bare grpc-js echo server (transport), then
// `maas serve` without and with dynamic batching, then clusters: the scheduler hop and scale-out
// (bench/scenarios/cluster). Prints a table, writes bench/results/*.json.
import { cpus, loadavg, totalmem } from 'node:os';
import { parseSettings, UsageError } from './config.js';
import { LoadGeneratorClient } from './load/generator-client.js';
import { createModelRepository } from './model-repo.js';
import { installCleanup, stopAll } from './processes.js';
import { markdownTable, summaryText, textTable, writeReport, type BenchReport, type RssReport } from './report.js';
import { computeLimit } from './scenarios/compute-limit.js';
import { clusterScenarios, type ClusterResult } from './scenarios/cluster/index.js';
import type { BenchContext } from './scenarios/context.js';
import { modelScenarios, type Servers } from './scenarios/models.js';
import { payloadSweep } from './scenarios/payload-sweep.js';
import { soak } from './scenarios/soak.js';
import type { Availability } from './scenarios/served.js';
import { ratios, targets } from './scenarios/targets.js';
import { serveFlags, startEchoServer, startServer, type RunningServer } from './server.js';

/** Other work on the machine skews results; the 1/5/15-minute load averages show how much. */
function machineInfo(loadAverageAtStart: number[]): BenchReport['machine'] {
  const cpuList = cpus();
  return {
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    node: process.version,
    loadAverageAtStart,
    loadAverageAtEnd: loadavg(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  };
}

/** First line of a start-up failure plus the server's own error line from its log, if any. */
function startError(error: unknown): string {
  const lines = (error instanceof Error ? error.message : String(error)).split('\n');
  const cause = lines.slice(1).find((line) => /Error|error:/.test(line));
  return [lines[0], cause?.trim()].filter(Boolean).join(': ');
}

/** Starts a server, or says why there is none. */
async function tryStart(start: () => Promise<RunningServer>): Promise<Availability> {
  try {
    return { server: await start() };
  } catch (error) {
    return { status: 'error', note: `server did not start: ${startError(error)}` };
  }
}

async function stopServer(availability: Availability): Promise<void> {
  if ('server' in availability) await availability.server.stop();
}

/** `--soak-only`: just the soak, against the batching server (plain maas if batching is missing). */
async function soakOnly(ctx: BenchContext, flags: Set<string>): Promise<RssReport | undefined> {
  const batching = flags.has('enable_batching') && flags.has('batching_parameters_file') ? ctx.settings.batching : undefined;
  const server = await startServer({ configFile: ctx.repo.configFile, knownFlags: flags, workDir: ctx.repo.root, maxRestBodyBytes: 256 << 20, ...(batching ? { batching } : {}) });
  try {
    return await soak(ctx, server, batching ? 'maas+batching' : 'maas');
  } finally {
    await server.stop();
  }
}

/** The whole benchmark: limits, served paths, payload sweep, then the soak (unless --soak 0). */
async function fullRun(ctx: BenchContext, flags: Set<string>, helpNote: string | undefined): Promise<RssReport | undefined> {
  const settings = ctx.settings;
  // 1. Compute limits first, while nothing else runs.
  const classifierLimit = await computeLimit(ctx, 'classifier', { kind: 'classifier' }, settings.classifierBatchSizes);
  await computeLimit(ctx, 'mlp', { kind: 'mlp' }, settings.mlpBatchSizes);
  // Same offered rate with and without batching, sized from this run's compute limit.
  const openRate = Math.round((classifierLimit.itemsPerSec?.max ?? 0) * settings.openLoadFraction);

  // 2. The served paths next to the transport limit (echo server), all up at once so rounds
  //    can alternate between them.
  const serverOptions = { configFile: ctx.repo.configFile, knownFlags: flags, workDir: ctx.repo.root, maxRestBodyBytes: 256 << 20 };
  const batchingSupported = flags.has('enable_batching') && flags.has('batching_parameters_file');
  const b = settings.batching;
  if (batchingSupported) ctx.notes.push(`batching server: max_batch_size ${b.maxBatchSize}, batch_timeout_micros ${b.batchTimeoutMicros}, num_batch_threads ${b.numBatchThreads ?? 'unset (server default)'}`);
  const [echo, maas, batched] = await Promise.all([
    tryStart(startEchoServer),
    tryStart(() => startServer(serverOptions)),
    batchingSupported
      ? tryStart(() => startServer({ ...serverOptions, batching: b }))
      : ({ status: 'not available yet', note: helpNote ? 'maas serve --help failed' : 'maas serve --help does not list --enable_batching' } as const),
  ]);
  const servers: Servers = { 'transport limit': echo, maas, 'maas+batching': batched };
  await modelScenarios(ctx, servers, openRate);
  await payloadSweep(ctx, servers);

  // 3. The soak, alone on the machine: batching server if there is one, else plain maas.
  const soakPath = 'server' in servers['maas+batching'] ? 'maas+batching' : 'maas';
  for (const path of ['transport limit', 'maas', 'maas+batching'] as const) if (path !== soakPath) await stopServer(servers[path]);
  const soakServer = servers[soakPath];
  return settings.soakRequests > 0 && 'server' in soakServer ? soak(ctx, soakServer.server, soakPath) : undefined;
}

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2));
  const began = Date.now();
  const startedAt = new Date(began).toISOString();
  const loadAtStart = loadavg();
  const progress = (message: string) => console.error(`[bench ${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${message}`);
  const repo = createModelRepository();
  // The temporary model repository goes whichever way the run ends (also on SIGINT).
  installCleanup(() => repo.remove());
  const ctx: BenchContext = { settings, repo, generator: new LoadGeneratorClient(), rows: [], notes: [], progress };
  let soakReport: RssReport | undefined;
  let cluster: ClusterResult = { ratios: [], targets: [] };
  try {
    // Start-up work overlaps here, before anything is measured: the generator's tsx start and
    // `maas serve --help` (which tells whether this maas has batching).
    ctx.generator.start();
    const { flags, note: helpNote } = await serveFlags();
    if (helpNote) ctx.notes.push(helpNote);
    if (settings.soakOnly) soakReport = await soakOnly(ctx, flags);
    else {
      soakReport = await fullRun(ctx, flags, helpNote);
      // 4. The cluster last (scheduler hop, scale-out), on clusters of its own.
      if (settings.cluster) {
        cluster = await clusterScenarios(ctx).catch((error: unknown) => {
          ctx.notes.push(`cluster scenarios failed: ${startError(error)}`);
          return cluster;
        });
      }
    }
  } finally {
    await ctx.generator.close();
    await stopAll();
    repo.remove();
  }

  const report: BenchReport = {
    startedAt,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: machineInfo(loadAtStart),
    settings,
    rows: ctx.rows,
    ratios: [...ratios(ctx.rows, settings), ...cluster.ratios],
    targets: [...targets(ctx.rows, settings, soakReport), ...cluster.targets],
    ...(soakReport ? { soak: soakReport } : {}),
    notes: ctx.notes,
  };
  console.log(textTable(report.rows));
  console.log(summaryText(report));
  if (settings.markdown) console.log(`\n${markdownTable(report.rows)}`);
  const file = writeReport(settings.resultsDir, report, settings.soakOnly ? 'soak' : settings.mode);
  progress(`done; results in ${file}`);
}

main().catch(async (error: unknown) => {
  console.error(error instanceof UsageError ? error.message : error);
  await stopAll();
  process.exit(1);
});
