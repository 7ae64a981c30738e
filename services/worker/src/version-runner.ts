import { batchingOptionsFromParameters, DynamicBatcher, requestRows, type BatchingOptions } from '@maas/batching';
import type { OnnxModel, TensorMap } from '@maas/onnx-runtime';
import { parentLocation, sharedModelStore } from '@maas/model-store';
import type { CallContext } from '@maas/serving-api';
import { parseBatchingParameters } from '@maas/text-proto';
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
  const allOutputs = model.signature.outputs.map((o) => o.name);
  // Each request's tag is where its trace is, so the batch shows up in every trace it serves.
  const batcher = new DynamicBatcher(model.label, options, (feeds, padded, members) =>
    runBatch(target, members.tags as BatchMember[], padded, () => model.run(feeds, allOutputs)),
  );
  return {
    async run(feeds, outputNames, context) {
      const results = await batcher.submit(feeds, { deadline: context.deadline, tag: batchMember(requestRows(feeds)) });
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
  return batchingOptionsFromParameters(parseBatchingParameters(text), { numBatchThreads: global.numBatchThreads });
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
  return batched(model, options, target);
}
