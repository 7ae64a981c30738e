import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  buildOnnxModel,
  callUnary,
  loadTfServingClients,
  makeTempDir,
  startMaas,
  writeModelVersion,
  type GraphSpec,
  type ServeProcess,
  type UnaryError,
} from '@maas/test-support';

/*
 * Classify, Regress and MultiInference against a real `maas serve`, with models built here:
 *   linear    v3  age float [b,1], tags int64 [b,2]  -> scores float [b,2] = softmax(f·W + B), outputs float [b,1] = f·R + RB
 *                 where f = [age, tags0, tags1]
 *   labelled  v1  the same plus labels string [b,2]  -> scores, classes = Identity(labels)
 *   regressor v1  x float [b], n int32 [b]           -> y float [b] = 2x + n   (its only output, not named "outputs")
 *   no_heads  v1  x float [b,2]                      -> logits, z (no scores/classes/outputs)
 *   bool_in   v1  flag bool [b,1]                    -> scores float [b,1]
 *   fixed4    v1  x float [4,2]                      -> scores float [4,2]
 */

const W = [[0.5, -0.5], [1, 0], [0, 1]];
const B = [0, 0.25];
const R = [2, 1, -1];
const RB = 0.5;

function linearGraph(withLabels: boolean): GraphSpec {
  return {
    inputs: [
      { name: 'age', type: 'float32', shape: ['batch', 1] },
      { name: 'tags', type: 'int64', shape: ['batch', 2] },
      ...(withLabels ? [{ name: 'labels', type: 'string' as const, shape: ['batch', 2] }] : []),
    ],
    outputs: [
      { name: 'scores', type: 'float32', shape: ['batch', 2] },
      withLabels ? { name: 'classes', type: 'string', shape: ['batch', 2] } : { name: 'outputs', type: 'float32', shape: ['batch', 1] },
    ],
    initializers: [
      { name: 'W', type: 'float32', dims: [3, 2], values: W.flat() },
      { name: 'B', type: 'float32', dims: [2], values: B },
      { name: 'R', type: 'float32', dims: [3, 1], values: R },
      { name: 'RB', type: 'float32', dims: [1], values: [RB] },
    ],
    nodes: [
      { op: 'Cast', inputs: ['tags'], outputs: ['tags_f'], attributes: { to: 1 } },
      { op: 'Concat', inputs: ['age', 'tags_f'], outputs: ['f'], attributes: { axis: 1 } },
      { op: 'MatMul', inputs: ['f', 'W'], outputs: ['fw'] },
      { op: 'Add', inputs: ['fw', 'B'], outputs: ['logits'] },
      { op: 'Softmax', inputs: ['logits'], outputs: ['scores'], attributes: { axis: 1 } },
      withLabels
        ? { op: 'Identity', inputs: ['labels'], outputs: ['classes'] }
        : { op: 'MatMul', inputs: ['f', 'R'], outputs: ['fr'] },
      ...(withLabels ? [] : [{ op: 'Add', inputs: ['fr', 'RB'], outputs: ['outputs'] }]),
    ],
  };
}

const regressorGraph: GraphSpec = {
  inputs: [
    { name: 'x', type: 'float32', shape: ['batch'] },
    { name: 'n', type: 'int32', shape: ['batch'] },
  ],
  outputs: [{ name: 'y', type: 'float32', shape: ['batch'] }],
  initializers: [{ name: 'two', type: 'float32', dims: [], values: [2] }],
  nodes: [
    { op: 'Mul', inputs: ['x', 'two'], outputs: ['x2'] },
    { op: 'Cast', inputs: ['n'], outputs: ['n_f'], attributes: { to: 1 } },
    { op: 'Add', inputs: ['x2', 'n_f'], outputs: ['y'] },
  ],
};

const noHeadsGraph: GraphSpec = {
  inputs: [{ name: 'x', type: 'float32', shape: ['batch', 2] }],
  outputs: [
    { name: 'logits', type: 'float32', shape: ['batch', 2] },
    { name: 'z', type: 'float32', shape: ['batch', 2] },
  ],
  nodes: [
    { op: 'Identity', inputs: ['x'], outputs: ['logits'] },
    { op: 'Neg', inputs: ['x'], outputs: ['z'] },
  ],
};

const boolInGraph: GraphSpec = {
  inputs: [{ name: 'flag', type: 'bool', shape: ['batch', 1] }],
  outputs: [{ name: 'scores', type: 'float32', shape: ['batch', 1] }],
  nodes: [{ op: 'Cast', inputs: ['flag'], outputs: ['scores'], attributes: { to: 1 } }],
};

const fixed4Graph: GraphSpec = {
  inputs: [{ name: 'x', type: 'float32', shape: [4, 2] }],
  outputs: [{ name: 'scores', type: 'float32', shape: [4, 2] }],
  nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['scores'] }],
};

/** What the linear model computes, in float64 (compared with a float32 tolerance). */
function expectedScores(age: number, tags: [number, number]): number[] {
  const f = [age, ...tags];
  const logits = [0, 1].map((j) => f.reduce((sum, v, i) => sum + v * W[i]![j]!, 0) + B[j]!);
  const max = Math.max(...logits);
  const exp = logits.map((l) => Math.exp(l - max));
  const total = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / total);
}
const expectedRegression = (age: number, tags: [number, number]) => age * R[0]! + tags[0] * R[1]! + tags[1] * R[2]! + RB;

function assertClose(actual: readonly number[], expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) < 1e-6, `${what}[${i}]: ${a} vs ${expected[i]}`));
}

// Feature builders in the proto-loader client's snake_case form.
const floats = (...value: number[]) => ({ float_list: { value } });
const int64s = (...value: Array<number | string>) => ({ int64_list: { value: value.map(String) } });
const bytes = (...value: string[]) => ({ bytes_list: { value: value.map((v) => Buffer.from(v)) } });
const example = (feature: Record<string, object>) => ({ features: { feature } });
const exampleList = (...examples: object[]) => ({ example_list: { examples } });
const withContext = (context: object, ...examples: object[]) => ({ example_list_with_context: { examples, context } });

type Spec = { name: string; version: { value: string } | null; signature_name: string };
type ClassificationResult = { classifications: Array<{ classes: Array<{ label: string; score: number }> }> };
type RegressionResult = { regressions: Array<{ value: number }> };
type ClassifyResponse = { model_spec: Spec; result: ClassificationResult };
type RegressResponse = { model_spec: Spec; result: RegressionResult };
type MultiResponse = { results: Array<{ model_spec: Spec; result: string; classification_result?: ClassificationResult; regression_result?: RegressionResult }> };

const specOf = (s: Spec) => ({ name: s.name, version: s.version?.value, signature_name: s.signature_name });
const scoresOf = (r: ClassificationResult) => r.classifications.map((c) => c.classes.map((k) => k.score));
const labelsOf = (r: ClassificationResult) => r.classifications.map((c) => c.classes.map((k) => k.label));

const CLASSIFY = 'tensorflow/serving/classify';
const REGRESS = 'tensorflow/serving/regress';

describe('Classify, Regress and MultiInference over gRPC', () => {
  let server: ServeProcess;
  let clients: ReturnType<typeof loadTfServingClients>;
  const root = makeTempDir();

  before(async () => {
    const models: Array<[string, number, GraphSpec]> = [
      ['linear', 3, linearGraph(false)],
      ['labelled', 1, linearGraph(true)],
      ['regressor', 1, regressorGraph],
      ['no_heads', 1, noHeadsGraph],
      ['bool_in', 1, boolInGraph],
      ['fixed4', 1, fixed4Graph],
    ];
    for (const [name, version, graph] of models) writeModelVersion(join(root, name), version, buildOnnxModel(graph));
    const config = `model_config_list {\n${models.map(([name]) => `  config { name: "${name}" base_path: "${join(root, name)}" }`).join('\n')}\n}\n`;
    writeFileSync(join(root, 'models.config'), config);
    server = await startMaas(['serve', '--port=0', '--grpc_host=127.0.0.1', `--model_config_file=${join(root, 'models.config')}`, '--file_system_poll_wait_seconds=0']);
    clients = loadTfServingClients(`127.0.0.1:${server.grpcPort}`);
  });

  after(async () => {
    clients?.close();
    assert.equal(await server?.stop(), 0, 'clean exit on SIGTERM');
  });

  const classify = (request: object) => callUnary<ClassifyResponse>(clients.prediction, 'Classify', request);
  const regress = (request: object) => callUnary<RegressResponse>(clients.prediction, 'Regress', request);
  const multi = (request: object) => callUnary<MultiResponse>(clients.prediction, 'MultiInference', request);

  const twoExamples = exampleList(example({ age: floats(1.5), tags: int64s(1, 2) }), example({ age: floats(-2), tags: int64s(0, '3') }));

  test('Classify returns softmax scores per example, empty labels without a classes output, and the resolved spec', async () => {
    const response = await classify({ model_spec: { name: 'linear' }, input: twoExamples });
    assert.deepEqual(specOf(response.model_spec), { name: 'linear', version: '3', signature_name: 'serving_default' });
    const scores = scoresOf(response.result);
    assert.equal(scores.length, 2);
    assertClose(scores[0]!, expectedScores(1.5, [1, 2]), 'example 0');
    assertClose(scores[1]!, expectedScores(-2, [0, 3]), 'example 1');
    assert.deepEqual(labelsOf(response.result), [['', ''], ['', '']]);
  });

  test('Classify with a classes output labels each score; context features feed every example', async () => {
    const response = await classify({
      model_spec: { name: 'labelled', signature_name: 'serving_default', version: { value: '1' } },
      input: withContext(
        example({ labels: bytes('no', 'yes'), tags: int64s(1, 1), age: floats(9) }),
        example({ age: floats(0.5) }),
        example({ age: floats(1), tags: int64s(2, 0) }),
        example({ labels: bytes('nein', 'ja'), tags: int64s(0, 0) }),
      ),
    });
    assert.deepEqual(specOf(response.model_spec), { name: 'labelled', version: '1', signature_name: 'serving_default' });
    assert.deepEqual(labelsOf(response.result), [['no', 'yes'], ['no', 'yes'], ['nein', 'ja']]);
    const scores = scoresOf(response.result);
    // Own values win over the context's (age 1 not 9, tags [2,0] not [1,1]).
    assertClose(scores[0]!, expectedScores(0.5, [1, 1]), 'example 0');
    assertClose(scores[1]!, expectedScores(1, [2, 0]), 'example 1');
    assertClose(scores[2]!, expectedScores(9, [0, 0]), 'example 2');
  });

  test('Regress reads the `outputs` output', async () => {
    const response = await regress({ model_spec: { name: 'linear' }, input: twoExamples });
    assert.deepEqual(specOf(response.model_spec), { name: 'linear', version: '3', signature_name: 'serving_default' });
    assert.deepEqual(response.result.regressions.map((r) => r.value), [expectedRegression(1.5, [1, 2]), expectedRegression(-2, [0, 3])]);
  });

  test('Regress reads a model\'s only output, feeding int32 inputs from int64_list', async () => {
    const response = await regress({ model_spec: { name: 'regressor' }, input: exampleList(example({ x: floats(1.5), n: int64s(2) }), example({ x: floats(-1), n: int64s(-3) })) });
    assert.deepEqual(response.result.regressions.map((r) => r.value), [5, -5]);
  });

  test('MultiInference answers classify and regress tasks from one run, in task order', async () => {
    const response = await multi({
      tasks: [
        { model_spec: { name: 'linear' }, method_name: REGRESS },
        { model_spec: { name: 'linear', signature_name: 'serving_default' }, method_name: CLASSIFY },
      ],
      input: withContext(example({ tags: int64s(1, 2) }), example({ age: floats(1.5) }), example({ age: floats(-2), tags: int64s(0, 3) })),
    });
    assert.equal(response.results.length, 2);
    const [regressed, classified] = response.results;
    for (const result of response.results) assert.deepEqual(specOf(result.model_spec), { name: 'linear', version: '3', signature_name: 'serving_default' });
    // The InferenceResult oneof holds exactly the task's kind.
    assert.equal(regressed!.result, 'regression_result');
    assert.equal(regressed!.classification_result, undefined);
    assert.deepEqual(regressed!.regression_result!.regressions.map((r) => r.value), [expectedRegression(1.5, [1, 2]), expectedRegression(-2, [0, 3])]);
    assert.equal(classified!.result, 'classification_result');
    assert.equal(classified!.regression_result, undefined);
    const scores = scoresOf(classified!.classification_result!);
    assertClose(scores[0]!, expectedScores(1.5, [1, 2]), 'example 0');
    assertClose(scores[1]!, expectedScores(-2, [0, 3]), 'example 1');
  });

  test('every bad request gets its status, and the server keeps serving after each', async (t) => {
    const good = twoExamples;
    const I = grpc.status.INVALID_ARGUMENT;
    const F = grpc.status.FAILED_PRECONDITION;
    const cases: Array<[string, () => Promise<unknown>, grpc.status, RegExp]> = [
      ['classify: missing model_spec', () => classify({ input: good }), I, /^Missing ModelSpec$/],
      ['classify: empty name', () => classify({ model_spec: { name: '' }, input: good }), I, /^ModelSpec has no name specified\.$/],
      ['classify: unknown model', () => classify({ model_spec: { name: 'nope' }, input: good }), grpc.status.NOT_FOUND, /^Servable not found for request: Latest\(nope\)$/],
      ['classify: unknown version', () => classify({ model_spec: { name: 'linear', version: { value: '1' } }, input: good }), grpc.status.NOT_FOUND, /Specific\(linear, 1\)/],
      ['classify: unknown signature', () => classify({ model_spec: { name: 'linear', signature_name: 'classification' }, input: good }), I, /^No signature was found with the name: classification$/],
      ['classify: no input', () => classify({ model_spec: { name: 'linear' } }), I, /^Input is empty\.$/],
      ['classify: empty example list', () => classify({ model_spec: { name: 'linear' }, input: exampleList() }), I, /^Input is empty\.$/],
      ['classify: context without examples', () => classify({ model_spec: { name: 'linear' }, input: withContext(example({ age: floats(1) })) }), I, /^Input is empty\.$/],
      ['classify: missing feature', () => classify({ model_spec: { name: 'linear' }, input: exampleList(example({ age: floats(1), tags: int64s(1, 2) }), example({ age: floats(1) })) }), I, /Example 1 is missing feature 'tags'/],
      ['classify: wrong kind', () => classify({ model_spec: { name: 'linear' }, input: exampleList(example({ age: int64s(1), tags: int64s(1, 2) })) }), I, /Feature 'age' of example 0 is an int64_list; model input 'age' is float and needs a float_list/],
      ['classify: bytes for a number', () => classify({ model_spec: { name: 'linear' }, input: exampleList(example({ age: floats(1), tags: bytes('a', 'b') })) }), I, /Feature 'tags' of example 0 is a bytes_list/],
      ['classify: wrong value count', () => classify({ model_spec: { name: 'linear' }, input: exampleList(example({ age: floats(1), tags: int64s(1, 2, 3) })) }), I, /Feature 'tags' of example 0 has 3 values.*exactly 2/],
      ['classify: model without scores or classes', () => classify({ model_spec: { name: 'no_heads' }, input: exampleList(example({ x: floats(1, 2) })) }), F, /at least one of "classes" or "scores"; the model's outputs are \{logits, z\}/],
      ['classify: bool input', () => classify({ model_spec: { name: 'bool_in' }, input: exampleList(example({ flag: int64s(1) })) }), F, /input 'flag' has type bool/],
      ['classify: fixed batch of 4', () => classify({ model_spec: { name: 'fixed4' }, input: exampleList(example({ x: floats(1, 2) })) }), F, /input 'x' has shape \[4,2\] with a fixed batch dim of 4/],
      ['regress: unknown signature', () => regress({ model_spec: { name: 'linear', signature_name: 'regression' }, input: good }), I, /^No signature was found with the name: regression$/],
      ['regress: missing model_spec', () => regress({ input: good }), I, /^Missing ModelSpec$/],
      ['regress: no input', () => regress({ model_spec: { name: 'regressor' }, input: {} }), I, /^Input is empty\.$/],
      ['regress: two outputs, none named outputs', () => regress({ model_spec: { name: 'labelled' }, input: good }), F, /named "outputs", or a model with exactly one output; the model's outputs are \{scores, classes\}/],
      ['regress: no regression output', () => regress({ model_spec: { name: 'no_heads' }, input: exampleList(example({ x: floats(1, 2) })) }), F, /exactly one output/],
      ['regress: int32 out of range', () => regress({ model_spec: { name: 'regressor' }, input: exampleList(example({ x: floats(1), n: int64s('2147483648') })) }), I, /'n' of example 0 has value 2147483648, outside the int32 range/],
      ['multi: no tasks', () => multi({ tasks: [], input: good }), I, /^ModelSpec has no name specified\.$/],
      ['multi: first task without model_spec', () => multi({ tasks: [{ method_name: CLASSIFY }], input: good }), I, /^ModelSpec has no name specified\.$/],
      ['multi: unknown model', () => multi({ tasks: [{ model_spec: { name: 'nope' }, method_name: CLASSIFY }], input: good }), grpc.status.NOT_FOUND, /Latest\(nope\)/],
      ['multi: two models', () => multi({ tasks: [{ model_spec: { name: 'linear' }, method_name: CLASSIFY }, { model_spec: { name: 'regressor' }, method_name: REGRESS }], input: good }), I, /^All ModelSpecs in a MultiInferenceRequest must access the same model name\.$/],
      ['multi: later task without name', () => multi({ tasks: [{ model_spec: { name: 'linear' }, method_name: CLASSIFY }, { model_spec: { name: '' }, method_name: REGRESS }], input: good }), I, /must access the same model name/],
      ['multi: duplicate evaluation', () => multi({ tasks: [{ model_spec: { name: 'linear' }, method_name: CLASSIFY }, { model_spec: { name: 'linear', signature_name: 'serving_default' }, method_name: CLASSIFY }], input: good }), I, /^Duplicate evaluation of signature: serving_default$/],
      ['multi: unknown signature', () => multi({ tasks: [{ model_spec: { name: 'linear', signature_name: 'sig2' }, method_name: CLASSIFY }], input: good }), I, /^Requested signature not found in model graph: sig2$/],
      ['multi: predict method', () => multi({ tasks: [{ model_spec: { name: 'linear' }, method_name: 'tensorflow/serving/predict' }], input: good }), grpc.status.UNIMPLEMENTED, /^Unsupported signature method_name: tensorflow\/serving\/predict$/],
      ['multi: empty input', () => multi({ tasks: [{ model_spec: { name: 'linear' }, method_name: CLASSIFY }] }), I, /^Input is empty\.$/],
      ['multi: model unfit for a task', () => multi({ tasks: [{ model_spec: { name: 'labelled' }, method_name: CLASSIFY }, { model_spec: { name: 'labelled' }, method_name: REGRESS }], input: good }), F, /exactly one output/],
      ['multi: missing feature', () => multi({ tasks: [{ model_spec: { name: 'linear' }, method_name: REGRESS }], input: exampleList(example({ tags: int64s(1, 2) })) }), I, /Example 0 is missing feature 'age'/],
    ];
    for (const [name, call, code, message] of cases) {
      await t.test(name, async () => {
        await assert.rejects(call(), (error: UnaryError) => {
          assert.equal(error.code, code, `code for "${error.details}"`);
          assert.match(error.details, message);
          return true;
        });
        const still = await regress({ model_spec: { name: 'linear' }, input: good });
        assert.equal(still.result.regressions[0]!.value, expectedRegression(1.5, [1, 2]), 'still serving');
      });
    }
  });
});
