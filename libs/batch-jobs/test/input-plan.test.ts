import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { ServingError } from '@maas/errors';
import { makeTempDir } from '@maas/test-support';
import { planFileInput, planInlineInput, readChunkRows } from '@maas/batch-jobs';

const dir = makeTempDir('maas-batch-plan-');
let files = 0;
function file(text: string): string {
  const path = join(dir, `input-${files++}.jsonl`);
  writeFileSync(path, text);
  return path;
}

const code = (expected: number, pattern: RegExp) => (error: unknown) =>
  error instanceof ServingError && error.code === expected && pattern.test(error.message);

describe('planFileInput', () => {
  test('cuts rows into chunks of byte ranges that read back as the same rows; blank lines are skipped but counted as lines', async () => {
    const lines = ['[0]', '', '[1]', '  ', '{"x": [2]}', '[3]\r', '"four"'];
    const path = file(lines.join('\n')); // no newline at the end
    const plan = await planFileInput(path, 2);
    assert.equal(plan.totalRows, 5);
    assert.deepEqual(plan.chunks.map((c) => [c.index, c.firstRow, c.rows]), [[0, 0, 2], [1, 2, 2], [2, 4, 1]]);
    const rows = (await Promise.all(plan.chunks.map((c) => readChunkRows(path, c)))).flat();
    assert.deepEqual(rows.map((r) => [r.row, r.line, r.text.trim()]), [
      [0, 1, '[0]'],
      [1, 3, '[1]'],
      [2, 5, '{"x": [2]}'],
      [3, 6, '[3]'],
      [4, 7, '"four"'],
    ]);
  });

  test('reads a file larger than one read buffer, with lines across buffer boundaries', async () => {
    const row = JSON.stringify(Array.from({ length: 3000 }, (_, i) => i / 7));
    const path = file(Array.from({ length: 700 }, () => row).join('\n') + '\n');
    const plan = await planFileInput(path, 64);
    assert.equal(plan.totalRows, 700);
    assert.equal(plan.chunks.length, 11);
    const last = await readChunkRows(path, plan.chunks[10]!);
    assert.deepEqual(last.map((r) => r.row), Array.from({ length: 700 - 640 }, (_, i) => 640 + i));
    assert.ok(last.every((r) => r.text === row));
  });

  test('refuses lines that are not JSON, naming their line numbers and how many there are', async () => {
    const path = file(['[1]', '[2', '', 'nope', ...Array.from({ length: 6 }, () => '{'), '[3]'].join('\n'));
    await assert.rejects(planFileInput(path, 10), code(status.INVALID_ARGUMENT, /has 8 line\(s\) that are not JSON: line 2: .*; line 4: .*and 3 more/));
  });

  test('a missing file is NOT_FOUND, a directory FAILED_PRECONDITION, a file without rows INVALID_ARGUMENT', async () => {
    await assert.rejects(planFileInput(join(dir, 'missing.jsonl'), 10), code(status.NOT_FOUND, /does not exist/));
    const sub = join(dir, 'a-directory');
    mkdirSync(sub);
    await assert.rejects(planFileInput(sub, 10), code(status.FAILED_PRECONDITION, /is a directory/));
    await assert.rejects(planFileInput(file('\n \n'), 10), code(status.INVALID_ARGUMENT, /has no rows/));
  });

  test('a file edited after submit is detected when its chunk is read', async () => {
    const path = file('[1]\n[2]\n[3]\n');
    const plan = await planFileInput(path, 2);
    writeFileSync(path, '[1]\n\n[3]\n');
    await assert.rejects(readChunkRows(path, plan.chunks[0]!), code(status.FAILED_PRECONDITION, /changed after the job was submitted/));
  });
});

describe('planInlineInput', () => {
  test('chunks inline rows and refuses ones that are not JSON', async () => {
    const plan = planInlineInput(['1', '2', '[3]'], 2);
    assert.deepEqual(plan.chunks.map((c) => [c.firstRow, c.rows]), [[0, 2], [2, 1]]);
    assert.deepEqual((await readChunkRows('', plan.chunks[1]!)).map((r) => [r.row, r.text]), [[2, '[3]']]);
    assert.throws(() => planInlineInput(['1', '{'], 2), code(status.INVALID_ARGUMENT, /instance 1/));
    assert.throws(() => planInlineInput([], 2), code(status.INVALID_ARGUMENT, /no instances/));
  });
});
