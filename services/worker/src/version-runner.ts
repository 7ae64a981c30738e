import { batchingOptionsFromParameters, DynamicBatcher, requestRows, type BatchingOptions } from '@maas/batching';
import { InvalidArgumentError } from '@maas/errors';
import type { OnnxModel, TensorMap } from '@maas/onnx-runtime';
import { parentLocation, sharedModelStore } from '@maas/model-store';
import { PRIORITY_HEADER, type CallContext } from '@maas/serving-api';
import { parseServingBatchingParameters } from '@maas/text-proto';
import { batchMember, runBatch, runCompute, type BatchMember, type RunTarget } from '@maas/telemetry';

/** How a loaded version executes requests: straight onnxruntime runs, or through a dynamic batcher. */
export interface VersionRunner {
  run(feeds: TensorMap, outputNames: readonly string[], context: CallContext): Promise<TensorMap>;
  /** Rows waiting in its batch queue (0 without batching). */
  queuedRows(): number;
  close(): Promise<void>;
}

export interface BatchingConfig {
  /** --enable_batching with --batching_parameters_file (or TF's defaults). */
  options: BatchingOptions;
  /** --enable_per_model_batching_parameters: a version directory's batching_params.pbtxt overrides. */
  perModel: boolean;
  /**
   * num_batch_threads was set in the file. Otherwise a version runs one batch at a time (not TF
   * Serving's one per core): a session runs one batch at a time on its thread, so a second batch
   * could not overlap the first; it would only leave earlier, and smaller, than the queue allows.
   */
  fixedBatchThreads?: boolean;
}

export const PER_MODEL_BATCHING_FILE = 'batching_params.pbtxt';

function direct(model: OnnxModel, target: RunTarget): VersionRunner {
  return { run: (feeds, outputNames) => runCompute(target, () => model.run(feeds, outputNames)), queuedRows: () => 0, close: async () => {} };
}

/**
 * Requests share batches, so a batch computes every output and each request keeps the ones it
 * asked for (what output_filter costs under batching).
 */
function batched(model: OnnxModel, options: BatchingOptions, target: RunTarget): VersionRunner {
  const levels = options.priorityLevels;
  const allOutputs = model.signature.outputs.map((o) => o.name);
  // Each request's tag is where its trace is, so the batch shows up in every trace it serves.
  const batcher = new DynamicBatcher(model.label, options, (feeds, padded, members) =>
    runBatch(target, members.tags as BatchMember[], padded, () => model.run(feeds, allOutputs)),
  );
  return {
    async run(feeds, outputNames, context) {
      if (context.priority !== undefined && context.priority > levels) {
        throw new InvalidArgumentError(`${PRIORITY_HEADER} ${context.priority} is out of range [1, ${levels}] for model ${model.label}`);
      }
      const results = await batcher.submit(feeds, {
        deadline: context.deadline,
        priority: context.priority,
        queueTimeoutMs: context.queueTimeoutMs,
        tag: batchMember(requestRows(feeds), Object.keys(feeds).length),
      });
      return Object.fromEntries(outputNames.map((name) => [name, results[name]!]));
    },
    queuedRows: () => batcher.queuedRows,
    close: () => batcher.close(),
  };
}

/** Per-model parameters replace the global file's, keeping its thread settings (TF's rule). */
async function perModelOptions(modelFile: string, global: BatchingOptions): Promise<BatchingOptions> {
  const text = await sharedModelStore().readText(parentLocation(modelFile), PER_MODEL_BATCHING_FILE);
  if (text === undefined) return global;
  return batchingOptionsFromParameters(parseServingBatchingParameters(text), { numBatchThreads: global.numBatchThreads });
}

/** `servable` names the version in traces and metrics. */
export async function runnerFor(
  model: OnnxModel,
  modelFile: string,
  batching: BatchingConfig | undefined,
  servable: { name: string; version: number },
): Promise<VersionRunner> {
  const target: RunTarget = { model: servable.name, version: servable.version, api: 'Predict' };
  if (!batching) return direct(model, target);
  const options = batching.perModel ? await perModelOptions(modelFile, batching.options) : batching.options;
  return batched(model, batching.fixedBatchThreads ? options : { ...options, numBatchThreads: 1 }, target);
}
