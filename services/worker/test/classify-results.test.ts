import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import ort from 'onnxruntime-node';
import { DataType, type Example, type Feature, type InferenceTask } from '@maas/protos';
import { FailedPreconditionError, InvalidArgumentError, UnimplementedError } from '@maas/errors';
import type { ModelSignature, TensorMap, TensorSpec } from '@maas/onnx-runtime';
import {
  checkExampleSignatureName,
  classificationResult,
  classifyOutputs,
  inferFromExamples,
  multiInferenceModelSpec,
  planTasks,
  regressionResult,
  regressOutput,
  type ExampleModel,
} from '../src/examples/index.js';

const floats = (...value: number[]): Feature => ({ floatList: { value } });
const example = (feature: Record<string, Feature>): Example => ({ features: { feature } });
const spec = (alias: string, dtype: DataType, shape: number[], name = alias): TensorSpec => ({ alias, name, dtype, shape });
const outputsOnly = (...outputs: TensorSpec[]): ModelSignature => ({ inputs: [spec('x', DataType.DT_FLOAT, [-1])], outputs });
const f32 = (data: number[], dims: number[]) => new ort.Tensor('float32', Float32Array.from(data), dims);
const str = (data: string[], dims: number[]) => new ort.Tensor('string', data, dims);

function throwsWith(fn: () => unknown, type: new (...args: never[]) => Error, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

async function rejectsWith(promise: Promise<unknown>, type: new (...args: never[]) => Error, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

const SCORES = spec('scores', DataType.DT_FLOAT, [-1, 2]);
const CLASSES = spec('classes', DataType.DT_STRING, [-1, 2]);
const OUTPUTS = spec('outputs', DataType.DT_FLOAT, [-1, 1]);

describe('classifyOutputs / regressOutput: what the model must offer', () => {
  test('classify finds scores and classes by alias', () => {
    assert.deepEqual(classifyOutputs(outputsOnly(OUTPUTS, CLASSES, SCORES)), { classes: CLASSES, scores: SCORES });
    assert.deepEqual(classifyOutputs(outputsOnly(SCORES)), { scores: SCORES });
    assert.deepEqual(classifyOutputs(outputsOnly(CLASSES)), { classes: CLASSES });
  });

  test('no scores and no classes is FAILED_PRECONDITION listing the outputs', () => {
    throwsWith(() => classifyOutputs(outputsOnly(OUTPUTS, spec('logits', DataType.DT_FLOAT, [-1, 2]))), FailedPreconditionError, /at least one of "classes" or "scores"; the model's outputs are \{outputs, logits\}/);
  });

  test('scores that are not float, classes that are not string, or a known rank other than 2 are FAILED_PRECONDITION', () => {
    throwsWith(() => classifyOutputs(outputsOnly(spec('scores', DataType.DT_DOUBLE, [-1, 2]))), FailedPreconditionError, /"scores" output to be float; the model's is double/);
    throwsWith(() => classifyOutputs(outputsOnly(SCORES, spec('classes', DataType.DT_INT64, [-1, 2]))), FailedPreconditionError, /"classes" output to be string; the model's is int64/);
    throwsWith(() => classifyOutputs(outputsOnly(spec('scores', DataType.DT_FLOAT, [-1, 2, 2]))), FailedPreconditionError, /"scores" output to have shape \[batch_size, num_classes\]/);
  });

  test('regress takes `outputs`, else the only output', () => {
    assert.equal(regressOutput(outputsOnly(SCORES, OUTPUTS)), OUTPUTS);
    const only = spec('y', DataType.DT_FLOAT, [-1]);
    assert.equal(regressOutput(outputsOnly(only)), only);
  });

  test('regress without `outputs` among several outputs, a non-float output or a wide output is FAILED_PRECONDITION', () => {
    throwsWith(() => regressOutput(outputsOnly(SCORES, CLASSES)), FailedPreconditionError, /named "outputs", or a model with exactly one output; the model's outputs are \{scores, classes\}/);
    throwsWith(() => regressOutput(outputsOnly(spec('outputs', DataType.DT_DOUBLE, [-1]))), FailedPreconditionError, /"outputs" to be float; the model's is double/);
    throwsWith(() => regressOutput(outputsOnly(spec('outputs', DataType.DT_FLOAT, [-1, 3]))), FailedPreconditionError, /\[batch_size\] or \[batch_size, 1\]; the model's has shape \[-1,3\]/);
  });
});

describe('classificationResult / regressionResult: output tensors to results', () => {
  const results = (entries: Record<string, ort.Tensor>): TensorMap => entries;

  test('scores and classes become one Classifications per example, classes in output order', () => {
    const out = results({ scores: f32([0.75, 0.25, 0.5, 0.5], [2, 2]), classes: str(['a', 'b', 'c', 'd'], [2, 2]) });
    assert.deepEqual(classificationResult({ scores: SCORES, classes: CLASSES }, out, 2), {
      classifications: [
        { classes: [{ label: 'a', score: 0.75 }, { label: 'b', score: 0.25 }] },
        { classes: [{ label: 'c', score: 0.5 }, { label: 'd', score: 0.5 }] },
      ],
    });
  });

  test('scores only give empty labels; classes only give score 0', () => {
    assert.deepEqual(classificationResult({ scores: SCORES }, results({ scores: f32([1, 2], [1, 2]) }), 1), {
      classifications: [{ classes: [{ label: '', score: 1 }, { label: '', score: 2 }] }],
    });
    assert.deepEqual(classificationResult({ classes: CLASSES }, results({ classes: str(['x'], [1, 1]) }), 1), {
      classifications: [{ classes: [{ label: 'x', score: 0 }] }],
    });
  });

  test('outputs are read by graph name', () => {
    const scores = spec('scores', DataType.DT_FLOAT, [-1, 1], 'head/scores:0');
    assert.equal(classificationResult({ scores }, results({ 'head/scores:0': f32([0.5], [1, 1]) }), 1).classifications[0]!.classes[0]!.score, 0.5);
  });

  test('a batch size, rank or shape that does not fit is INVALID_ARGUMENT', () => {
    throwsWith(() => classificationResult({ scores: SCORES }, results({ scores: f32([1, 2], [1, 2]) }), 2), InvalidArgumentError, /Expected scores output batch size of 2\. Got: 1/);
    throwsWith(() => classificationResult({ classes: CLASSES }, results({ classes: str(['a'], [1, 1]) }), 3), InvalidArgumentError, /Expected classes output batch size of 3\. Got: 1/);
    throwsWith(() => classificationResult({ scores: SCORES }, results({ scores: f32([1, 2], [2]) }), 2), InvalidArgumentError, /Expected Tensor shape: \[batch_size num_classes\] but got \[2\]/);
    throwsWith(
      () => classificationResult({ scores: SCORES, classes: CLASSES }, results({ scores: f32([1, 2], [1, 2]), classes: str(['a'], [1, 1]) }), 1),
      InvalidArgumentError,
      /Tensors class and score should match in shape\. Class shape: \[1,1\] Score shape: \[1,2\]/,
    );
    throwsWith(() => classificationResult({ scores: SCORES }, results({}), 1), InvalidArgumentError, /no value for output 'scores'/);
  });

  test('regression reads [batch] and [batch, 1]', () => {
    assert.deepEqual(regressionResult(OUTPUTS, results({ outputs: f32([1.5, -2], [2, 1]) }), 2), { regressions: [{ value: 1.5 }, { value: -2 }] });
    assert.deepEqual(regressionResult(OUTPUTS, results({ outputs: f32([3], [1]) }), 1), { regressions: [{ value: 3 }] });
  });

  test('a regression output of another shape, batch or type is INVALID_ARGUMENT', () => {
    throwsWith(() => regressionResult(OUTPUTS, results({ outputs: f32([1, 2], [1, 2]) }), 1), InvalidArgumentError, /either \[batch_size\] or \[batch_size, 1\] but got \[1,2\]/);
    throwsWith(() => regressionResult(OUTPUTS, results({ outputs: f32([1, 2], [2]) }), 3), InvalidArgumentError, /Input batch size did not match output batch size: 3 vs\. 2/);
    throwsWith(() => regressionResult(OUTPUTS, results({ outputs: new ort.Tensor('float64', Float64Array.from([1]), [1]) }), 1), InvalidArgumentError, /Expected output Tensor of DT_FLOAT/);
  });
});

describe('signature names and MultiInference tasks', () => {
  const task = (name: string, methodName: string, signatureName = ''): InferenceTask => ({ modelSpec: { name, signatureName }, methodName });
  const CLASSIFY = 'tensorflow/serving/classify';
  const REGRESS = 'tensorflow/serving/regress';

  test('Classify/Regress accept only serving_default, with their own wording', () => {
    assert.doesNotThrow(() => checkExampleSignatureName('serving_default'));
    throwsWith(() => checkExampleSignatureName('classification'), InvalidArgumentError, /^No signature was found with the name: classification$/);
  });

  test('the model comes from tasks[0]; no tasks or no model_spec fails on the empty name', () => {
    assert.equal(multiInferenceModelSpec({ tasks: [task('m', CLASSIFY)] }).name, 'm');
    assert.equal(multiInferenceModelSpec({ tasks: [] }).name, '');
    assert.equal(multiInferenceModelSpec({ tasks: [{ methodName: CLASSIFY }] }).name, '');
  });

  test('classify and regress on serving_default plan in task order with resolved signature names', () => {
    assert.deepEqual(planTasks([task('m', REGRESS), task('m', CLASSIFY, 'serving_default')], 'm'), [
      { method: 'regress', signatureName: 'serving_default' },
      { method: 'classify', signatureName: 'serving_default' },
    ]);
  });

  test('every task must name the same model', () => {
    throwsWith(() => planTasks([task('m', CLASSIFY), task('other', REGRESS)], 'm'), InvalidArgumentError, /^All ModelSpecs in a MultiInferenceRequest must access the same model name\.$/);
    throwsWith(() => planTasks([task('m', CLASSIFY), task('', REGRESS)], 'm'), InvalidArgumentError, /must access the same model name/);
  });

  test('the same evaluation twice is a duplicate', () => {
    throwsWith(() => planTasks([task('m', CLASSIFY), task('m', CLASSIFY, 'serving_default')], 'm'), InvalidArgumentError, /^Duplicate evaluation of signature: serving_default$/);
  });

  test('an unknown signature is INVALID_ARGUMENT, an unknown method UNIMPLEMENTED', () => {
    throwsWith(() => planTasks([task('m', CLASSIFY, 'sig2')], 'm'), InvalidArgumentError, /^Requested signature not found in model graph: sig2$/);
    throwsWith(() => planTasks([task('m', 'tensorflow/serving/predict')], 'm'), UnimplementedError, /^Unsupported signature method_name: tensorflow\/serving\/predict$/);
    throwsWith(() => planTasks([task('m', '')], 'm'), UnimplementedError, /^Unsupported signature method_name: $/);
  });
});

describe('inferFromExamples', () => {
  /** A fake model: records each run and answers scores = [x, 1-x], outputs = 10x. */
  function fakeModel(signature: ModelSignature) {
    const runs: Array<{ dims: number[]; outputs: string[] }> = [];
    const model: ExampleModel = {
      signature,
      async run(feeds, outputNames) {
        const x = Array.from(feeds.x!.data as Float32Array);
        runs.push({ dims: [...feeds.x!.dims], outputs: [...outputNames] });
        const out: TensorMap = {};
        if (outputNames.includes('scores')) out.scores = f32(x.flatMap((v) => [v, 1 - v]), [x.length, 2]);
        if (outputNames.includes('outputs')) out.outputs = f32(x.map((v) => 10 * v), [x.length, 1]);
        return out;
      },
    };
    return { model, runs };
  }
  const sig = (batch: number): ModelSignature => ({ inputs: [spec('x', DataType.DT_FLOAT, [batch, 1])], outputs: [SCORES, OUTPUTS] });
  const input = { exampleList: { examples: [example({ x: floats(0.25) }), example({ x: floats(0.5) })] } };

  test('one run serves classify and regress, with the union of outputs', async () => {
    const { model, runs } = fakeModel(sig(-1));
    const [classified, regressed] = await inferFromExamples(model, input, ['classify', 'regress']);
    assert.deepEqual(runs, [{ dims: [2, 1], outputs: ['scores', 'outputs'] }]);
    assert.deepEqual(classified, {
      classificationResult: {
        classifications: [
          { classes: [{ label: '', score: 0.25 }, { label: '', score: 0.75 }] },
          { classes: [{ label: '', score: 0.5 }, { label: '', score: 0.5 }] },
        ],
      },
    });
    assert.deepEqual(regressed, { regressionResult: { regressions: [{ value: 2.5 }, { value: 5 }] } });
  });

  test('a model with batch dim 1 runs once per example', async () => {
    const { model, runs } = fakeModel(sig(1));
    const [regressed] = await inferFromExamples(model, input, ['regress']);
    assert.deepEqual(runs.map((r) => r.dims), [[1, 1], [1, 1]]);
    assert.deepEqual(regressed!.regressionResult!.regressions.map((r) => r.value), [2.5, 5]);
  });

  test('beforeRun is called before the run, and its error stops it', async () => {
    const { model, runs } = fakeModel(sig(-1));
    await rejectsWith(inferFromExamples(model, input, ['regress'], { beforeRun: () => { throw new InvalidArgumentError('late'); } }), InvalidArgumentError, /late/);
    assert.equal(runs.length, 0);
  });

  test('the model fitness is checked before the input, and the input before running', async () => {
    const { model, runs } = fakeModel({ inputs: [spec('x', DataType.DT_FLOAT, [-1, 1])], outputs: [spec('logits', DataType.DT_FLOAT, [-1, 2]), spec('z', DataType.DT_FLOAT, [-1])] });
    await rejectsWith(inferFromExamples(model, undefined, ['classify']), FailedPreconditionError, /at least one of "classes" or "scores"/);
    await rejectsWith(inferFromExamples(model, undefined, ['regress']), FailedPreconditionError, /exactly one output/);
    const good = fakeModel(sig(-1));
    await rejectsWith(inferFromExamples(good.model, { exampleList: { examples: [] } }, ['classify']), InvalidArgumentError, /^Input is empty\.$/);
    await rejectsWith(inferFromExamples(good.model, { exampleList: { examples: [example({ x: floats(1) }), example({})] } }, ['classify']), InvalidArgumentError, /Example 1 is missing feature 'x'/);
    assert.equal(runs.length + good.runs.length, 0);
  });
});
