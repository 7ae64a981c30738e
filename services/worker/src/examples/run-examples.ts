import type { ClassificationResult, Input, RegressionResult } from '@maas/protos';
import { InvalidArgumentError } from '@maas/errors';
import { DEFAULT_SIGNATURE } from '@maas/serving-api';
import type { ModelSignature, TensorMap } from '@maas/onnx-runtime';
import { examplesOf, feedsFromExamples, planFeeds, type FeedLimits } from './feature-tensors.js';
import { classificationResult, classifyOutputs, regressionResult, regressOutput, type ClassifyOutputs } from './inference-outputs.js';

export type ExampleMethod = 'classify' | 'regress';

/** Task method names of MultiInference (signature_constants.h). */
export const CLASSIFY_METHOD_NAME = 'tensorflow/serving/classify';
export const REGRESS_METHOD_NAME = 'tensorflow/serving/regress';

/** Classify/Regress wording for an unknown signature (classifier.cc, regressor.cc), unlike Predict's. */
export function checkExampleSignatureName(signatureName: string, known: string = DEFAULT_SIGNATURE): void {
  if (signatureName !== known) throw new InvalidArgumentError(`No signature was found with the name: ${signatureName}`);
}

/** The part of a loaded model this needs (OnnxModel fits). */
export interface ExampleModel {
  readonly signature: ModelSignature;
  run(feeds: TensorMap, outputNames: readonly string[]): Promise<TensorMap>;
}

export interface ExampleTaskResult {
  classificationResult?: ClassificationResult;
  regressionResult?: RegressionResult;
}

export interface InferOptions {
  limits?: FeedLimits;
  /** Called right before each run (e.g. a deadline check). */
  beforeRun?: () => void;
}

type TaskPlan = { method: 'classify'; outputs: ClassifyOutputs } | { method: 'regress'; output: ReturnType<typeof regressOutput> };

/**
 * Runs the model once on the Input's examples and answers every method from that one run (one
 * result per method, same order). Order of checks as TF Serving: the model's fitness
 * (FAILED_PRECONDITION), then `Input is empty.`, then each example (INVALID_ARGUMENT). A model whose
 * batch dim is fixed at 1 runs once per example instead.
 */
export async function inferFromExamples(
  model: ExampleModel,
  input: Input | undefined,
  methods: readonly ExampleMethod[],
  options: InferOptions = {},
): Promise<ExampleTaskResult[]> {
  const signature = model.signature;
  const tasks: TaskPlan[] = methods.map((method) =>
    method === 'classify' ? { method, outputs: classifyOutputs(signature) } : { method, output: regressOutput(signature) },
  );
  const plans = planFeeds(signature);
  const batch = examplesOf(input);
  const n = batch.examples.length;
  const outputNames = [
    ...new Set(tasks.flatMap((t) => (t.method === 'classify' ? [t.outputs.classes?.name, t.outputs.scores?.name] : [t.output.name]))),
  ].filter((name): name is string => name !== undefined);
  const perExample = plans.some((p) => p.batchDim === 1);
  const chunks: Array<[start: number, end: number]> = perExample ? batch.examples.map((_, i) => [i, i + 1]) : [[0, n]];
  // Every example is checked before anything runs.
  const feeds = chunks.map(([start, end]) => feedsFromExamples(plans, batch, options.limits, start, end));
  const results: ExampleTaskResult[] = tasks.map((t) =>
    t.method === 'classify' ? { classificationResult: { classifications: [] } } : { regressionResult: { regressions: [] } },
  );
  for (let c = 0; c < chunks.length; c++) {
    const [start, end] = chunks[c]!;
    options.beforeRun?.();
    const outputs = await model.run(feeds[c]!, outputNames);
    tasks.forEach((task, t) => {
      const target = results[t]!;
      if (task.method === 'classify') {
        target.classificationResult!.classifications.push(...classificationResult(task.outputs, outputs, end - start).classifications);
      } else {
        target.regressionResult!.regressions.push(...regressionResult(task.output, outputs, end - start).regressions);
      }
    });
  }
  return results;
}
