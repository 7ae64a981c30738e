import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { identityModel, makeTempDir, writeModelVersion } from '@maas/test-support';
import { buildDenseMlpModel, buildMlpModel } from './mlp-model.js';
import { CLASSIFIER_MODEL, DENSE_MLP, DENSE_MODEL, IDENTITY_MODEL, MLP_MODEL } from './workloads.js';

export interface ModelRepository {
  root: string;
  /** Text-format ModelServerConfig listing every benchmark model. */
  configFile: string;
  /** model name -> <base_path>/1/model.onnx */
  files: Record<string, string>;
  remove(): void;
}

const CLASSIFIER_FILE = fileURLToPath(new URL('../models/text_direction/1/model.onnx', import.meta.url));

/** One temporary TF-Serving-layout repository with the classifier, the two MLPs and the identity model. */
export function createModelRepository(): ModelRepository {
  const root = makeTempDir('maas-bench-models-');
  const classifierDir = join(root, CLASSIFIER_MODEL, '1');
  writeModelVersion(join(root, MLP_MODEL), 1, buildMlpModel());
  writeModelVersion(join(root, DENSE_MODEL), 1, buildDenseMlpModel(DENSE_MLP));
  writeModelVersion(join(root, IDENTITY_MODEL), 1, identityModel('float32', ['batch', 'n']));
  // A link, not a copy: the classifier ships in node_modules and is the same file `npm start` serves.
  mkdirSync(classifierDir, { recursive: true });
  symlinkSync(CLASSIFIER_FILE, join(classifierDir, 'model.onnx'));

  const names = [CLASSIFIER_MODEL, MLP_MODEL, DENSE_MODEL, IDENTITY_MODEL];
  const configFile = join(root, 'models.config');
  const entries = names.map((name) => `  config { name: "${name}" base_path: "${join(root, name)}" model_platform: "onnx" }`);
  writeFileSync(configFile, `model_config_list {\n${entries.join('\n')}\n}\n`);
  return {
    root,
    configFile,
    files: Object.fromEntries(names.map((name) => [name, join(root, name, '1', 'model.onnx')])),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
