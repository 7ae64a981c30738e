import { initTelemetry } from '@maas/telemetry';
import { FlagError } from './flags.js';
import { serveCommand } from './commands/serve.js';
import { registryCommand } from './commands/registry.js';
import { schedulerCommand } from './commands/scheduler.js';
import { workerCommand } from './commands/worker.js';
import { upCommand } from './commands/up.js';
import { statusCommand } from './commands/status.js';
import { batchCommand } from './commands/batch.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; summary: string }> = {
  serve: { run: serveCommand, summary: 'serve models on one node (TF Serving flags), no Redis needed' },
  up: { run: upCommand, summary: 'start a local cluster: registry, scheduler and N workers' },
  registry: { run: registryCommand, summary: 'cluster role: the model catalogue (needs Redis)' },
  scheduler: { run: schedulerCommand, summary: 'cluster role: the front door, routing and placement (needs Redis)' },
  worker: { run: workerCommand, summary: 'cluster role: runs the models placed on it (needs Redis)' },
  status: { run: statusCommand, summary: "the cluster at a glance: workers, models, traffic, queues, batch jobs" },
  batch: { run: batchCommand, summary: 'batch inference jobs on a cluster: submit, status, cancel, list' },
};

function usage(): string {
  return ['usage: maas <command> [flags]', '', ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)].join('\n');
}

const [name, ...rest] = process.argv.slice(2);
const command = name ? COMMANDS[name] : undefined;
if (!command) {
  console.error(usage());
  process.exit(name === undefined || name === '--help' ? 0 : 2);
}
try {
  // Meters, and traces when OTEL_EXPORTER_OTLP_ENDPOINT or MAAS_TRACE_FILE names a destination.
  await initTelemetry({ serviceName: `maas-${name}` });
  await command.run(rest);
} catch (error) {
  console.error(`maas ${name}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(error instanceof FlagError ? 2 : 1);
}
