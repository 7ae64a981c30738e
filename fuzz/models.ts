import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { DataType, ModelServerConfig } from '@maas/protos';
import type { InputSpecs } from './arbitraries.js';
import { ModelCatalog } from '@maas/registry';
import { LocalBackend, ModelHost } from '@maas/worker';
import { addConstantModel, identityModel, makeTempDir, twoInputTwoOutputModel, writeModelVersion } from '@maas/test-support';

/** What the in-process targets serve: adder v1+v2 (label stable -> 1), words (string identity), pair (two inputs). */
export const MODELS = ['adder', 'words', 'pair'] as const;

export const MODEL_INPUTS: InputSpecs = {
  adder: { x: { dtype: DataType.DT_FLOAT } },
  words: { x: { dtype: DataType.DT_STRING } },
  pair: { a: { dtype: DataType.DT_FLOAT, columns: 3 }, b: { dtype: DataType.DT_FLOAT, columns: 3 } },
};

/** Requests may not declare more: the fuzzer must find bugs, not exhaust memory. */
export const MAX_ELEMENTS = 4096;

export interface ServedModels {
  backend: LocalBackend;
  stop(): Promise<void>;
}

/** Real onnxruntime sessions behind the worker's LocalBackend, in this process. */
export async function serveModels(): Promise<ServedModels> {
  // Inputs onnxruntime rejects are expected by the thousand here; its own log of each is noise.
  ort.env.logLevel = 'fatal';
  const dir = makeTempDir('maas-fuzz-');
  writeModelVersion(join(dir, 'adder'), 1, addConstantModel(1));
  writeModelVersion(join(dir, 'adder'), 2, addConstantModel(2));
  writeModelVersion(join(dir, 'words'), 1, identityModel('string'));
  writeModelVersion(join(dir, 'pair'), 1, twoInputTwoOutputModel());
  const config = ModelServerConfig.fromPartial({
    modelConfigList: {
      config: MODELS.map((name) => ({
        name,
        basePath: join(dir, name),
        modelType: 0,
        modelPlatform: 'onnx',
        modelVersionPolicy: name === 'adder' ? { all: {} } : undefined,
        versionLabels: name === 'adder' ? { stable: 1n } : {},
      })),
    },
  });
  const host = new ModelHost(new ModelCatalog(config), { pollSeconds: -1 });
  await host.start();
  return { backend: new LocalBackend(host, { maxElements: MAX_ELEMENTS }), stop: () => host.stop() };
}
