import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { ServingError } from '@maas/errors';
import { makeTempDir } from '@maas/test-support';
import { assembleFile, errorLine, predictionLine, prepareOutput, readPart, removeParts, writePart } from '@maas/batch-jobs';

const code = (expected: number, pattern: RegExp) => (error: unknown) =>
  error instanceof ServingError && error.code === expected && pattern.test(error.message);

describe('result files', () => {
  test('parts are replaced whole and assembled in chunk order; parts are removed after', async () => {
    const dir = makeTempDir('maas-batch-out-');
    const output = join(dir, 'out.jsonl');
    const parts = await prepareOutput(output, 'job1');
    await writePart(parts, 1, predictionLine(2, '[3]'));
    await writePart(parts, 0, 'stale\n');
    await writePart(parts, 0, predictionLine(0, '[1]') + errorLine(1, 'bad "row"'));
    assert.equal((await readPart(parts, 0))?.toString(), '{"row":0,"prediction":[1]}\n{"row":1,"error":"bad \\"row\\""}\n');
    assert.equal(await readPart(parts, 2), undefined);
    await assembleFile(output, [0, 1].map((chunk) => async () => (await readPart(parts, chunk))!));
    assert.deepEqual(readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l).row), [0, 1, 2]);
    await removeParts(parts);
    assert.deepEqual(readdirSync(dir), ['out.jsonl']);
  });

  test('a failed assembly leaves the previous file as it was and no temporary file', async () => {
    const dir = makeTempDir('maas-batch-out-');
    const output = join(dir, 'out.jsonl');
    writeFileSync(output, 'previous\n');
    const failing = async (): Promise<string> => {
      throw new Error('disk on fire');
    };
    await assert.rejects(assembleFile(output, [async () => 'a\n', failing]), /disk on fire/);
    assert.equal(readFileSync(output, 'utf8'), 'previous\n');
    assert.deepEqual(readdirSync(dir), ['out.jsonl']);
  });

  test('an output that cannot be written is refused at submit', async () => {
    const dir = makeTempDir('maas-batch-out-');
    await assert.rejects(prepareOutput('relative/out.jsonl', 'j'), code(status.INVALID_ARGUMENT, /must be absolute/));
    await assert.rejects(prepareOutput(join(dir, 'no-such-dir', 'out.jsonl'), 'j'), code(status.FAILED_PRECONDITION, /does not exist/));
    await assert.rejects(prepareOutput(dir, 'j'), code(status.FAILED_PRECONDITION, /is a directory/));
    await assert.rejects(prepareOutput('', 'j'), code(status.INVALID_ARGUMENT, /required/));
    assert.ok(!existsSync(join(dir, 'no-such-dir')));
  });
});
