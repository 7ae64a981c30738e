import { initTelemetry } from '@maas/telemetry';
import { FlagError } from './flags.js';
type Command = (argv: string[]) => Promise<void>;

// Each command is imported only when it runs: `maas batch` or `maas status` need not load
// onnxruntime and the servers (about 2 s of start-up on a small machine).
const COMMANDS: Record<string, { load: () => Promise<Command>; summary: string }> = {
  serve: { load: async () => (await import('./commands/serve.js')).serveCommand, summary: 'serve models on one node (TF Serving flags), no Redis needed' },
  up: { load: async () => (await import('./commands/up.js')).upCommand, summary: 'start a local cluster: registry, scheduler and N workers' },
  registry: { load: async () => (await import('./commands/registry.js')).registryCommand, summary: 'cluster role: the model catalogue (needs Redis)' },
  scheduler: { load: async () => (await import('./commands/scheduler.js')).schedulerCommand, summary: 'cluster role: the front door, routing and placement (needs Redis)' },
  worker: { load: async () => (await import('./commands/worker.js')).workerCommand, summary: 'cluster role: runs the models placed on it (needs Redis)' },
  status: { load: async () => (await import('./commands/status.js')).statusCommand, summary: 'the cluster at a glance: workers, models, traffic, queues, batch jobs' },
  batch: { load: async () => (await import('./commands/batch.js')).batchCommand, summary: 'batch inference jobs on a cluster: submit, status, cancel, list' },
};

function usage(): string {
  return ['usage: maas <command> [flags]', '', ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)].join('\n');
}

const [name, ...rest] = process.argv.slice(2);
const command = name ? COMMANDS[name] : undefined;
if (!name || !command) {
  console.error(usage());
  process.exit(name === undefined || name === '--help' ? 0 : 2);
}
try {
  // Meters, and traces when the standard OTEL_* variables name an exporter (docs/observability.md).
  await initTelemetry({ serviceName: `maas-${name}`, role: name });
  const run = await command.load();
  await run(rest);
} catch (error) {
  console.error(`maas ${name}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(error instanceof FlagError ? 2 : 1);
}
