/**
 * TF Serving style flags: `--name=value` or `--name value`, booleans also bare or `=true|false`.
 * node:util parseArgs rejects `--bool=false`, which TF Serving users write, hence this small parser.
 */
export type FlagType = 'string' | 'int' | 'bool';

export interface FlagSpec {
  type: FlagType;
  default?: string | number | boolean;
  help: string;
}

export type FlagValues = Record<string, string | number | boolean | undefined>;

export class FlagError extends Error {}

function convert(name: string, spec: FlagSpec, raw: string): string | number | boolean {
  if (spec.type === 'string') return raw;
  if (spec.type === 'int') {
    if (!/^-?\d+$/.test(raw)) throw new FlagError(`--${name} expects an integer, got '${raw}'`);
    return Number(raw);
  }
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new FlagError(`--${name} expects true or false, got '${raw}'`);
}

export function parseFlags(argv: readonly string[], specs: Record<string, FlagSpec>): FlagValues {
  const values: FlagValues = {};
  for (const [name, spec] of Object.entries(specs)) values[name] = spec.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--?([A-Za-z0-9_]+)(?:=(.*))?$/s.exec(arg);
    if (!match) throw new FlagError(`unexpected argument '${arg}'`);
    const name = match[1]!;
    const spec = specs[name];
    if (!spec) throw new FlagError(`unknown flag --${name}`);
    let raw = match[2];
    if (raw === undefined) {
      const next = argv[i + 1];
      if (spec.type === 'bool' && (next === undefined || !/^(true|false|1|0)$/.test(next))) raw = 'true';
      else if (next === undefined) throw new FlagError(`--${name} needs a value`);
      else raw = argv[++i]!;
    }
    values[name] = convert(name, spec, raw);
  }
  return values;
}

export function flagsHelp(specs: Record<string, FlagSpec>): string {
  return Object.entries(specs)
    .map(([name, spec]) => `  --${name}${spec.default !== undefined ? `=${String(spec.default)}` : ''}\n      ${spec.help}`)
    .join('\n');
}
