import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import ort from 'onnxruntime-node';
import { status } from '@grpc/grpc-js';
import { DataType } from '@maas/protos';
import { ServingError } from '@maas/errors';
import type { ModelSignature, TensorSpec } from '@maas/onnx-runtime';
import { predictionJson } from '../../services/worker/src/batch/prediction-json.js';
import { rowFeeds, rowsPerRunLimit, shapeKey, stackRows } from '../../services/worker/src/batch/row-tensors.js';

const spec = (alias: string, dtype: DataType, shape: number[]): TensorSpec => ({ alias, name: `graph_${alias}`, dtype, shape });
const single: ModelSignature = { inputs: [spec('x', DataType.DT_FLOAT, [-1, 2])], outputs: [spec('y', DataType.DT_FLOAT, [-1, 2])] };
const rejects = (code: number, pattern: RegExp) => (error: unknown) => error instanceof ServingError && error.code === code && pattern.test(error.message);

describe('batch rows to tensors', () => {
  test('rows of one input stack into one batch; an object naming the input works too', () => {
    const rows = [rowFeeds(single, [1, 2]), rowFeeds(single, { x: [3, 4.5] })];
    assert.equal(shapeKey(rows[0]!), shapeKey(rows[1]!));
    const feeds = stackRows(single, rows);
    assert.deepEqual(feeds.graph_x!.dims, [2, 2]);
    assert.deepEqual([...(feeds.graph_x!.data as Float32Array)], [1, 2, 3, 4.5]);
  });

  test('each row is checked on its own, with a message saying what is wrong', () => {
    assert.throws(() => rowFeeds(single, [1, 2, 3]), rejects(status.INVALID_ARGUMENT, /input 'x' of the row has shape \[3\] but the signature expects \[2\] per row/));
    assert.throws(() => rowFeeds(single, [[1], 2]), rejects(status.INVALID_ARGUMENT, /not a rectangular list/));
    assert.throws(() => rowFeeds(single, ['a', 'b']), rejects(status.INVALID_ARGUMENT, /expects float values, got "a"/));
    assert.throws(() => rowFeeds(single, { y: [1, 2] }), rejects(status.INVALID_ARGUMENT, /names inputs the model does not have: y/));
  });

  test('several inputs need an object naming each; dtypes are range-checked', () => {
    const signature: ModelSignature = {
      inputs: [spec('ids', DataType.DT_INT64, [-1, -1]), spec('flag', DataType.DT_BOOL, [-1]), spec('small', DataType.DT_UINT8, [-1]), spec('text', DataType.DT_STRING, [-1])],
      outputs: [],
    };
    const row = rowFeeds(signature, { ids: [7, 8, 9], flag: true, small: 255, text: { b64: Buffer.from('hé').toString('base64') } });
    const other = rowFeeds(signature, { ids: [1, 2], flag: false, small: 0, text: 'x' });
    assert.notEqual(shapeKey(row), shapeKey(other), 'rows of other lengths do not share a run');
    const feeds = stackRows(signature, [row]);
    assert.deepEqual([...(feeds.graph_ids!.data as BigInt64Array)], [7n, 8n, 9n]);
    assert.deepEqual([...(feeds.graph_flag!.data as Uint8Array)], [1]);
    assert.deepEqual(feeds.graph_text!.data, ['hé']);
    assert.throws(() => rowFeeds(signature, [1, 2]), rejects(status.INVALID_ARGUMENT, /has 4 inputs .* each row must be an object naming them/));
    assert.throws(() => rowFeeds(signature, { ids: [1], flag: true, small: 256, text: '' }), rejects(status.INVALID_ARGUMENT, /'small' expects uint8 values, got 256/));
    assert.throws(() => rowFeeds(signature, { ids: [1.5], flag: true, small: 1, text: '' }), rejects(status.INVALID_ARGUMENT, /'ids' expects int64 values/));
    assert.throws(() => rowFeeds(signature, { ids: [1], small: 1, text: '' }), rejects(status.INVALID_ARGUMENT, /missing input 'flag'/));
  });

  test('a signature without a batch dimension cannot run batch rows; a fixed batch of 1 runs rows one at a time', () => {
    assert.equal(rowsPerRunLimit(single), Number.POSITIVE_INFINITY);
    assert.equal(rowsPerRunLimit({ inputs: [spec('x', DataType.DT_FLOAT, [1, 2])], outputs: [] }), 1);
    assert.throws(() => rowsPerRunLimit({ inputs: [spec('x', DataType.DT_FLOAT, [4, 2])], outputs: [] }), rejects(status.INVALID_ARGUMENT, /first \(batch\) dimension that is dynamic or 1/));
    assert.throws(() => rowsPerRunLimit({ inputs: [spec('x', DataType.DT_FLOAT, [])], outputs: [] }), rejects(status.INVALID_ARGUMENT, /batch/));
  });
});

describe('batch outputs to prediction JSON', () => {
  test('one output gives its row value; floats print as the shortest float32 text', () => {
    const y = new ort.Tensor('float32', Float32Array.from([0.1, 1 / 3, Number.NaN, 2.5, -0, 1e-8]), [2, 3]);
    assert.equal(predictionJson(single.outputs, { graph_y: y }, 0), '[0.1,0.33333334,null]');
    assert.equal(predictionJson(single.outputs, { graph_y: y }, 1), '[2.5,0,1e-8]');
  });

  test('several outputs give an object by alias; ints, bools and strings keep their types', () => {
    const outputs = [spec('ids', DataType.DT_INT64, [-1]), spec('ok', DataType.DT_BOOL, [-1, 1]), spec('label', DataType.DT_STRING, [-1])];
    const results = {
      graph_ids: new ort.Tensor('int64', BigInt64Array.from([9007199254740993n, -1n]), [2]),
      graph_ok: new ort.Tensor('bool', Uint8Array.from([1, 0]), [2, 1]),
      graph_label: new ort.Tensor('string', ['a"b', 'c'], [2]),
    };
    const row0 = predictionJson(outputs, results, 0);
    assert.equal(row0, '{"ids":9007199254740993,"ok":[true],"label":"a\\"b"}');
    assert.deepEqual(JSON.parse(predictionJson(outputs, results, 1)), { ids: -1, ok: [false], label: 'c' });
  });
});
