// Runs every test file of the workspace in one node:test run (one TAP summary for CI).
// Node 20's --test does not expand globs, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const testDirs = [
  ...['libs', 'services'].flatMap((group) =>
    readdirSync(join(root, group)).map((name) => join(group, name, 'test')),
  ),
  ...readdirSync(join(root, 'test'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join('test', d.name)),
];
const files = testDirs
  .filter((dir) => existsSync(join(root, dir)))
  .flatMap((dir) => readdirSync(join(root, dir)).filter((f) => f.endsWith('.test.ts')).map((f) => join(dir, f)))
  .sort();
// Extra arguments (e.g. a file filter) narrow the run: `npm test -- tensor-codec`.
const filters = process.argv.slice(2);
const selected = filters.length ? files.filter((f) => filters.some((p) => f.includes(p))) : files;
if (selected.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...selected], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
