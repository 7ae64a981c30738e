import type { InferenceTask, ModelSpec, MultiInferenceRequest } from '@maas/protos';
import { InvalidArgumentError, UnimplementedError } from '@maas/errors';
import { DEFAULT_SIGNATURE } from '@maas/serving-api';
import { CLASSIFY_METHOD_NAME, REGRESS_METHOD_NAME, type ExampleMethod } from './run-examples.js';

/**
 * The spec the model is resolved from: tasks[0]'s (multi_inference_helper.cc). A request without
 * tasks, or whose first task has no model_spec, fails on the empty name, not on `Missing ModelSpec`.
 */
export function multiInferenceModelSpec(request: MultiInferenceRequest): ModelSpec {
  return request.tasks[0]?.modelSpec ?? { name: '', signatureName: '' };
}

export interface PlannedTask {
  method: ExampleMethod;
  signatureName: string;
}

/**
 * Checks every task the way multi_inference.cc does, in its order: same model name, no repeated
 * evaluation, known signature, supported method. An ONNX model has one signature (serving_default)
 * that serves either method, so an evaluation is a (signature, method) pair: one classify and one
 * regress task may both use serving_default, two classify tasks may not.
 */
export function planTasks(tasks: readonly InferenceTask[], modelName: string, signatures: readonly string[] = [DEFAULT_SIGNATURE]): PlannedTask[] {
  const seen = new Set<string>();
  return tasks.map((task) => {
    if (!task.modelSpec?.name || task.modelSpec.name !== modelName) {
      throw new InvalidArgumentError('All ModelSpecs in a MultiInferenceRequest must access the same model name.');
    }
    const signatureName = task.modelSpec.signatureName || DEFAULT_SIGNATURE;
    const key = `${signatureName}\u0000${task.methodName}`;
    if (seen.has(key)) throw new InvalidArgumentError(`Duplicate evaluation of signature: ${signatureName}`);
    seen.add(key);
    if (!signatures.includes(signatureName)) throw new InvalidArgumentError(`Requested signature not found in model graph: ${signatureName}`);
    const method = methodOf(task.methodName);
    return { method, signatureName };
  });
}

function methodOf(methodName: string): ExampleMethod {
  if (methodName === CLASSIFY_METHOD_NAME) return 'classify';
  if (methodName === REGRESS_METHOD_NAME) return 'regress';
  throw new UnimplementedError(`Unsupported signature method_name: ${methodName}`);
}
