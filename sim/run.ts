import { writeFileSync } from 'node:fs';
import { PRESETS } from './config.js';
import { formatResult } from './report.js';
import { Simulation } from './simulation.js';

/**
 * `npm run sim` (the full fleet) or `npm run sim -- --config=small`; `--duration_s=N` shortens a
 * run, `--json=FILE` writes the whole result with its per-sample series.
 */
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const preset = PRESETS[args.config ?? 'full'];
if (!preset) throw new Error(`unknown --config=${args.config}; one of ${Object.keys(PRESETS).join(', ')}`);
const config = { ...preset, durationS: args.duration_s ? Number(args.duration_s) : preset.durationS };
console.log(`simulating '${config.name}': ${config.workers.cpu + config.workers.gpu} workers, ${config.models} models, ${config.durationS} s ...`);
const result = new Simulation(config, (line) => console.error(`  ${line}`)).run();
console.log(formatResult(result));
if (args.json) writeFileSync(args.json, JSON.stringify(result, null, 2));
