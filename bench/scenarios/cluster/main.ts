// The cluster scenarios alone (they also run at the end of `npm run bench`):
//   node --import tsx bench/scenarios/cluster/main.ts [--quick] [--markdown]
// Prints the rows, ratios and targets; writes bench/results/<UTC time>-cluster-<quick|full>.json.
import { cpus, loadavg, totalmem } from 'node:os';
import { parseSettings, UsageError } from '../../config.js';
import { LoadGeneratorClient } from '../../load/generator-client.js';
import { createModelRepository } from '../../model-repo.js';
import { installCleanup, stopAll } from '../../processes.js';
import { markdownTable, summaryText, textTable, writeReport, type BenchReport } from '../../report.js';
import type { BenchContext } from '../context.js';
import { clusterScenarios } from './index.js';

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2));
  const began = Date.now();
  const loadAtStart = loadavg();
  const progress = (message: string) => console.error(`[bench ${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${message}`);
  const repo = createModelRepository();
  installCleanup(() => repo.remove());
  const ctx: BenchContext = { settings, repo, generator: new LoadGeneratorClient(), rows: [], notes: [], progress };
  let result;
  try {
    ctx.generator.start();
    result = await clusterScenarios(ctx);
  } finally {
    await ctx.generator.close();
    await stopAll();
    repo.remove();
  }
  const cpuList = cpus();
  const report: BenchReport = {
    startedAt: new Date(began).toISOString(),
    command: `node --import tsx bench/scenarios/cluster/main.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpus: cpuList.length, cpuModel: cpuList[0]?.model ?? 'unknown', node: process.version, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg(), memoryGiB: Math.round(totalmem() / 2 ** 30) },
    settings,
    rows: ctx.rows,
    ratios: result.ratios,
    targets: result.targets,
    notes: ctx.notes,
  };
  console.log(textTable(report.rows));
  console.log(summaryText(report));
  if (settings.markdown) console.log(`\n${markdownTable(report.rows)}`);
  progress(`done; results in ${writeReport(settings.resultsDir, report, `cluster-${settings.mode}`)}`);
}

main().catch(async (error: unknown) => {
  console.error(error instanceof UsageError ? error.message : error);
  await stopAll();
  process.exit(1);
});
