import { FlagError } from './flags.js';
import { serveCommand } from './commands/serve.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; summary: string }> = {
  serve: { run: serveCommand, summary: 'serve models on one node (TF Serving flags)' },
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
  await command.run(rest);
} catch (error) {
  console.error(`maas ${name}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(error instanceof FlagError ? 2 : 1);
}
