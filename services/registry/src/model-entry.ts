import type { ModelConfig, ModelServerConfig } from '@maas/protos';
import { InvalidArgumentError, UnimplementedError } from '@maas/errors';
import { basePathProblem, SUPPORTED_SCHEMES } from '@maas/model-store';

/** Which versions on disk a model should serve (ServableVersionPolicy). */
export type VersionPolicy = { kind: 'latest'; numVersions: number } | { kind: 'all' } | { kind: 'specific'; versions: number[] };

/** One model as the catalogue knows it: where its versions live and which of them to serve. */
export interface ModelEntry {
  name: string;
  basePath: string;
  policy: VersionPolicy;
  /** Label -> version. */
  labels: Record<string, number>;
}

function policyOf(config: ModelConfig): VersionPolicy {
  const policy = config.modelVersionPolicy;
  if (policy?.specific) return { kind: 'specific', versions: policy.specific.versions.map(Number) };
  if (policy?.all) return { kind: 'all' };
  // 0 is treated as 1, as TF Serving does.
  return { kind: 'latest', numVersions: Math.max(1, policy?.latest?.numVersions ?? 1) };
}

/** An absolute path or a URI the model store reads (TF Serving's rule, with its words); others are refused before anything loads. */
function checkBasePath(name: string, basePath: string): void {
  const problem = basePathProblem(basePath);
  if (!problem) return;
  if (problem.kind === 'relative') throw new InvalidArgumentError(`Expected model ${name} to have an absolute path or URI; got base_path()=${basePath}`);
  if (problem.kind === 'unsupported-scheme') {
    throw new UnimplementedError(`File system scheme '${problem.scheme}' not implemented (file: '${basePath}'); model ${name} can use ${SUPPORTED_SCHEMES.map((s) => `${s}://`).join(', ')} or an absolute path`);
  }
  throw new InvalidArgumentError(`Model ${name} has an unusable base_path()=${basePath}: ${problem.reason}`);
}

/** Validates a ModelServerConfig (shared/spec §6.5) and turns it into catalogue entries. */
export function entriesFromConfig(config: ModelServerConfig): ModelEntry[] {
  if (!config.modelConfigList) {
    throw new InvalidArgumentError(
      'ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported',
    );
  }
  const seen = new Set<string>();
  return config.modelConfigList.config.map((model) => {
    if (!model.name) throw new InvalidArgumentError('A model in the config list has no name.');
    if (seen.has(model.name)) throw new InvalidArgumentError(`Illegal to list model ${model.name} multiple times in config list`);
    seen.add(model.name);
    checkBasePath(model.name, model.basePath);
    if (model.modelType !== 0 && model.modelPlatform) {
      throw new InvalidArgumentError(`Illegal setting both model_type (deprecated) and model_platform for model ${model.name}.`);
    }
    const labels: Record<string, number> = {};
    for (const [label, version] of Object.entries(model.versionLabels)) labels[label] = Number(version);
    return { name: model.name, basePath: model.basePath, policy: policyOf(model), labels };
  });
}
