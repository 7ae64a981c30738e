import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { PermissionDeniedError } from '@maas/errors';
import type { Principal } from './authenticator.js';
import { ALL_MODELS, allows, type Permission } from './permissions.js';

/**
 * What each gRPC method asks of its caller. Model names are read from the request, encoded (the
 * scheduler forwards bytes) or decoded; a method that is not listed needs `administer` on every
 * model, so a service added later is closed until someone opens it here.
 */
export type Requirement =
  /** Anyone, credentials or not: health checks, which orchestrators make without keys. */
  | { kind: 'public' }
  /** Any authenticated caller (server reflection lists services, not models). */
  | { kind: 'authenticated' }
  /** The permission on each model the request names: `fields` are the field numbers down to the name. */
  | { kind: 'model'; permission: Permission; fields: readonly number[]; keys: readonly string[] }
  /** The permission on every model: calls about the whole cluster. */
  | { kind: 'all-models'; permission: Permission };

const spec = (permission: Permission): Requirement => ({ kind: 'model', permission, fields: [1, 1], keys: ['modelSpec', 'name'] });
const allModels = (permission: Permission): Requirement => ({ kind: 'all-models', permission });

const RULES: Record<string, Requirement> = {
  '/tensorflow.serving.PredictionService/Predict': spec('predict'),
  '/tensorflow.serving.PredictionService/Classify': spec('predict'),
  '/tensorflow.serving.PredictionService/Regress': spec('predict'),
  '/tensorflow.serving.PredictionService/MultiInference': { kind: 'model', permission: 'predict', fields: [1, 1, 1], keys: ['tasks', 'modelSpec', 'name'] },
  '/tensorflow.serving.PredictionService/GetModelMetadata': spec('read_metadata'),
  '/tensorflow.serving.ModelService/GetModelStatus': spec('read_metadata'),
  '/tensorflow.serving.ModelService/HandleReloadConfigRequest': allModels('administer'),
  '/maas.admin.v1.RegistryAdmin/SetReplicas': { kind: 'model', permission: 'administer', fields: [1], keys: ['model'] },
  '/maas.admin.v1.RegistryAdmin/DescribeCluster': allModels('administer'),
  '/maas.batch.v1.BatchJobs/Submit': spec('administer'),
};

const PUBLIC_SERVICES = ['/grpc.health.v1.Health/'];
const AUTHENTICATED_SERVICES = ['/grpc.reflection.v1alpha.ServerReflection/', '/grpc.reflection.v1.ServerReflection/'];

export function requirementFor(path: string): Requirement {
  const rule = RULES[path];
  if (rule) return rule;
  if (PUBLIC_SERVICES.some((prefix) => path.startsWith(prefix))) return { kind: 'public' };
  if (AUTHENTICATED_SERVICES.some((prefix) => path.startsWith(prefix))) return { kind: 'authenticated' };
  return allModels('administer');
}

/** Whether calls of this method change or reveal the cluster as a whole: the audit log records them. */
export function isAdministrative(requirement: Requirement): boolean {
  return (requirement.kind === 'model' || requirement.kind === 'all-models') && requirement.permission === 'administer';
}

/** Every string at the field path of an encoded message (repeated fields at any level give several). */
function stringsAtFields(bytes: Uint8Array, fields: readonly number[]): string[] {
  const reader = new BinaryReader(bytes);
  const found: string[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field !== fields[0] || wireType !== WireType.LengthDelimited) {
      reader.skip(wireType, field);
      continue;
    }
    if (fields.length === 1) found.push(reader.string());
    else found.push(...stringsAtFields(reader.bytes(), fields.slice(1)));
  }
  return found;
}

/** Every string at the property path of a decoded (ts-proto) message, through arrays. */
function stringsAtKeys(value: unknown, keys: readonly string[]): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => stringsAtKeys(item, keys));
  if (keys.length === 0) return typeof value === 'string' ? [value] : [];
  if (value === null || typeof value !== 'object') return [];
  return stringsAtKeys((value as Record<string, unknown>)[keys[0]!], keys.slice(1));
}

/**
 * The models a request names: from bytes on a forwarding hop, from a decoded message otherwise.
 * Undefined when the request is not a message at all (the handler answers INVALID_ARGUMENT); a
 * request that names none asks for the model '' (which no one but a holder of "*" may use).
 */
export function modelsNamed(message: unknown, requirement: Extract<Requirement, { kind: 'model' }>): string[] | undefined {
  let names: string[];
  if (message instanceof Uint8Array) {
    try {
      names = stringsAtFields(message, requirement.fields);
    } catch {
      return undefined;
    }
  } else if (message !== null && typeof message === 'object' && Object.getPrototypeOf(message) === Object.prototype) {
    names = stringsAtKeys(message, requirement.keys);
  } else {
    return undefined;
  }
  return names.length > 0 ? [...new Set(names)] : [''];
}

const VERBS: Record<Permission, string> = { predict: 'predict with', read_metadata: 'read', administer: 'administer' };

/**
 * Refuses with PERMISSION_DENIED unless the principal may do this. The refusal names only what
 * the caller asked for, and comes before any lookup: a model the caller may not use and a model
 * that does not exist are refused alike.
 */
export function authorize(principal: Principal, requirement: Requirement, models: readonly string[] | undefined): void {
  if (requirement.kind === 'public' || requirement.kind === 'authenticated') return;
  if (requirement.kind === 'all-models') {
    if (!allows(principal.grants, requirement.permission, ALL_MODELS)) {
      throw new PermissionDeniedError(`Permission denied: ${principal.id} may not ${VERBS[requirement.permission]} the cluster (needs ${requirement.permission} on "*")`);
    }
    return;
  }
  for (const model of models ?? []) {
    if (!allows(principal.grants, requirement.permission, model)) {
      throw new PermissionDeniedError(`Permission denied: ${principal.id} may not ${VERBS[requirement.permission]} model '${model}'`);
    }
  }
}
