import { FailedPreconditionError } from '@maas/errors';
import { childLocation, MODEL_RUNTIME_FILE, sharedModelStore } from '@maas/model-store';
import type { RuntimeOptions } from '@maas/onnx-runtime';

interface RuntimeFile {
  /** Ordered preference, or ["auto"]. */
  execution_providers?: string[];
  intra_op_threads?: number;
  instances?: number;
}

/** The worker-wide options with the model's own runtime.json applied over them, if it has one. */
export async function runtimeOptionsFor(basePath: string, defaults: RuntimeOptions): Promise<RuntimeOptions> {
  const text = await sharedModelStore().readText(basePath, MODEL_RUNTIME_FILE);
  if (text === undefined) return defaults;
  let file: RuntimeFile;
  try {
    file = JSON.parse(text) as RuntimeFile;
  } catch (error) {
    throw new FailedPreconditionError(`${childLocation(basePath, MODEL_RUNTIME_FILE)} is not valid JSON: ${(error as Error).message}`);
  }
  return {
    ...defaults,
    executionProviders: file.execution_providers ?? defaults.executionProviders,
    intraOpThreads: file.intra_op_threads ?? defaults.intraOpThreads,
    instances: file.instances ?? defaults.instances,
  };
}
