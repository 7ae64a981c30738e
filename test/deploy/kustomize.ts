/**
 * The part of Kustomize that deploy/ uses, so the manifests can be rendered where no kustomize
 * binary is installed: resources (files and directories), components, patches from files (strategic
 * merge, matched by kind and name, with `$patch: delete` of a whole object; or JSON 6902 with a
 * kind/name target: add, replace, remove, test), images (newName/newTag) and namespace. Anything else in a kustomization is an error, not ignored:
 * a feature this renderer does not know would otherwise render wrong without a word.
 * manifests.test.ts compares its output with `kubectl kustomize` where kubectl is installed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface ImageRule {
  name: string;
  newName?: string;
  newTag?: string;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  components?: string[];
  patches?: { path: string; target?: { kind: string; name: string } }[];
  images?: ImageRule[];
}

const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'components', 'patches', 'images']);
const CLUSTER_SCOPED = new Set(['Namespace', 'PersistentVolume', 'StorageClass', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass']);

export function readYamlDocuments(file: string): Json[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    return doc.toJS() as Json;
  }).filter((doc) => doc !== null);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readKustomization(dir: string): Kustomization {
  const [doc] = readYamlDocuments(join(dir, 'kustomization.yaml'));
  if (!isObject(doc)) throw new Error(`${dir}/kustomization.yaml is not a mapping`);
  const unknown = Object.keys(doc).filter((key) => !KNOWN_FIELDS.has(key));
  if (unknown.length > 0) throw new Error(`${dir}/kustomization.yaml uses ${unknown.join(', ')}, which test/deploy/kustomize.ts does not implement`);
  for (const patch of (doc.patches ?? []) as JsonObject[]) {
    const extra = Object.keys(patch).filter((key) => key !== 'path' && key !== 'target');
    if (extra.length > 0) throw new Error(`${dir}: patches with ${extra.join(', ')} are not implemented (only path and target)`);
    const targetKeys = isObject(patch.target) ? Object.keys(patch.target) : [];
    if (targetKeys.some((key) => key !== 'kind' && key !== 'name')) throw new Error(`${dir}: patch targets by ${targetKeys.join(', ')} are not implemented (only kind and name)`);
  }
  for (const image of (doc.images ?? []) as JsonObject[]) {
    const extra = Object.keys(image).filter((key) => !['name', 'newName', 'newTag'].includes(key));
    if (extra.length > 0) throw new Error(`${dir}: images with ${extra.join(', ')} are not implemented`);
  }
  return doc as unknown as Kustomization;
}

function asObject(doc: Json, file: string): K8sObject {
  if (!isObject(doc) || typeof doc.kind !== 'string' || !isObject(doc.metadata) || typeof doc.metadata.name !== 'string') {
    throw new Error(`${file}: a document without kind and metadata.name`);
  }
  return doc as unknown as K8sObject;
}

function group(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
}

/** Strategic merge patch keys (patchMergeKey in the Kubernetes API types) of the lists deploy/ patches. */
function mergeKey(kind: string, path: string[]): string | undefined {
  const field = path[path.length - 1];
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'topologySpreadConstraints':
      return 'topologyKey';
    case 'ports':
      return kind === 'Service' && path.length === 2 ? 'port' : 'containerPort';
    default:
      return undefined;
  }
}

function mergeValue(kind: string, path: string[], original: Json | undefined, patch: Json): Json {
  if (isObject(patch)) {
    if ('$patch' in patch) throw new Error(`$patch: ${String(patch.$patch)} at ${path.join('.')} is not implemented`);
    const result: JsonObject = isObject(original) ? { ...original } : {};
    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith('$')) throw new Error(`${key} at ${path.join('.')} is not implemented`);
      if (value === null) delete result[key];
      else result[key] = mergeValue(kind, [...path, key], result[key], value);
    }
    return result;
  }
  if (Array.isArray(patch)) {
    const key = mergeKey(kind, path);
    if (!key || !Array.isArray(original)) return patch;
    // As apimachinery orders it: the patch's items first, then the original items it did not name.
    const named = new Set(patch.map((item) => (isObject(item) ? item[key] : undefined)));
    const merged = patch.map((item) => {
      if (!isObject(item)) throw new Error(`a list merged by ${key} at ${path.join('.')} holds a non-object`);
      return mergeValue(kind, path, original.find((o) => isObject(o) && o[key] === item[key]), item);
    });
    return [...merged, ...original.filter((o) => !isObject(o) || !named.has(o[key]))];
  }
  return patch;
}

function applyPatchFile(objects: K8sObject[], file: string): K8sObject[] {
  let result = objects;
  for (const doc of readYamlDocuments(file)) {
    const patch = asObject(doc, file);
    const matches = result.filter((o) => o.kind === patch.kind && o.metadata.name === patch.metadata.name && group(o.apiVersion) === group(patch.apiVersion));
    if (matches.length !== 1) throw new Error(`${file}: patch for ${patch.kind}/${patch.metadata.name} matches ${matches.length} objects`);
    const target = matches[0]!;
    const { $patch: directive, ...body } = patch as unknown as JsonObject;
    if (directive === 'delete') {
      result = result.filter((o) => o !== target);
      continue;
    }
    if (directive !== undefined) throw new Error(`${file}: $patch: ${String(directive)} is not implemented`);
    const merged = mergeValue(target.kind, [], target as unknown as Json, body) as unknown as K8sObject;
    result = result.map((o) => (o === target ? merged : o));
  }
  return result;
}

/** RFC 6901 pointer to segments. */
function pointer(path: string): string[] {
  if (!path.startsWith('/')) throw new Error(`JSON pointer ${path} does not start with /`);
  return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Applies JSON 6902 operations (add, replace, remove, test) to a copy of `object`. */
function applyJsonPatch(object: K8sObject, ops: Json[], file: string): K8sObject {
  const result = structuredClone(object) as unknown as Json;
  for (const op of ops) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') throw new Error(`${file}: not a JSON patch operation: ${JSON.stringify(op)}`);
    const segments = pointer(op.path);
    const last = segments.pop()!;
    let parent: Json = result;
    for (const segment of segments) {
      const next: Json | undefined = Array.isArray(parent) ? parent[Number(segment)] : isObject(parent) ? parent[segment] : undefined;
      if (next === undefined) throw new Error(`${file}: ${op.path} does not exist in ${object.kind}/${object.metadata.name}`);
      parent = next;
    }
    const index = Array.isArray(parent) ? (last === '-' ? parent.length : Number(last)) : -1;
    const current = Array.isArray(parent) ? parent[index] : isObject(parent) ? parent[last] : undefined;
    if (op.op !== 'add' && current === undefined) throw new Error(`${file}: ${op.op} ${op.path}: nothing there in ${object.kind}/${object.metadata.name}`);
    if (op.op === 'test') {
      if (JSON.stringify(current) !== JSON.stringify(op.value)) throw new Error(`${file}: test ${op.path} failed: found ${JSON.stringify(current)}, expected ${JSON.stringify(op.value)}`);
    } else if (op.op === 'add' || op.op === 'replace') {
      if (op.value === undefined) throw new Error(`${file}: ${op.op} ${op.path} has no value`);
      if (Array.isArray(parent)) parent.splice(index, op.op === 'add' ? 0 : 1, op.value);
      else if (isObject(parent)) parent[last] = op.value;
    } else if (op.op === 'remove') {
      if (Array.isArray(parent)) parent.splice(index, 1);
      else if (isObject(parent)) delete parent[last];
    } else {
      throw new Error(`${file}: JSON patch op ${op.op} is not implemented`);
    }
  }
  return result as unknown as K8sObject;
}

function applyTargetedPatch(objects: K8sObject[], file: string, target: { kind: string; name: string }): K8sObject[] {
  const docs = readYamlDocuments(file);
  const ops = docs[0];
  if (docs.length !== 1 || !Array.isArray(ops)) throw new Error(`${file}: a patch with a target must be one JSON 6902 operation list`);
  const matches = objects.filter((o) => o.kind === target.kind && o.metadata.name === target.name);
  if (matches.length !== 1) throw new Error(`${file}: target ${target.kind}/${target.name} matches ${matches.length} objects`);
  return objects.map((o) => (o === matches[0] ? applyJsonPatch(o, ops, file) : o));
}

function podSpecs(object: K8sObject): JsonObject[] {
  const spec = object.spec;
  const template = isObject(spec) && isObject(spec.template) ? spec.template.spec : undefined;
  return isObject(template) ? [template] : [];
}

function splitImage(image: string): { name: string; tag?: string } {
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? { name: image.slice(0, colon), tag: image.slice(colon + 1) } : { name: image };
}

function applyImages(objects: K8sObject[], rules: ImageRule[]): void {
  for (const spec of objects.flatMap(podSpecs)) {
    for (const container of [...((spec.containers ?? []) as JsonObject[]), ...((spec.initContainers ?? []) as JsonObject[])]) {
      const { name, tag } = splitImage(String(container.image));
      const rule = rules.find((r) => r.name === name);
      if (!rule) continue;
      const newTag = rule.newTag ?? tag;
      container.image = `${rule.newName ?? name}${newTag ? `:${newTag}` : ''}`;
    }
  }
}

function loadResource(base: string, entry: string): K8sObject[] {
  const path = resolve(base, entry);
  if (statSync(path).isDirectory()) return renderKustomization(path);
  return readYamlDocuments(path).map((doc) => asObject(doc, path));
}

/** Applies one kustomization (or component) in `dir` to `input`, in Kustomize's order. */
function build(dir: string, input: K8sObject[], expectedKind: 'Kustomization' | 'Component'): K8sObject[] {
  const k = readKustomization(dir);
  if ((k.kind ?? 'Kustomization') !== expectedKind) throw new Error(`${dir}: expected kind ${expectedKind}, found ${k.kind}`);
  let objects = [...input, ...(k.resources ?? []).flatMap((entry) => loadResource(dir, entry))];
  for (const component of k.components ?? []) objects = build(resolve(dir, component), objects, 'Component');
  for (const patch of k.patches ?? []) {
    const file = resolve(dir, patch.path);
    objects = patch.target ? applyTargetedPatch(objects, file, patch.target) : applyPatchFile(objects, file);
  }
  // Deep copies from here on: the transformers below edit in place.
  objects = structuredClone(objects);
  if (k.images) applyImages(objects, k.images);
  if (k.namespace) for (const o of objects) if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  return objects;
}

/** The objects `kubectl kustomize <dir>` would print, for the subset of Kustomize described above. */
export function renderKustomization(dir: string): K8sObject[] {
  return build(resolve(dir), [], 'Kustomization');
}

/** Every directory under `root` holding a kustomization.yaml, with its kind (Kustomization or Component). */
export function findKustomizations(root: string): { dir: string; kind: string; components: string[] }[] {
  const found: { dir: string; kind: string; components: string[] }[] = [];
  const walk = (dir: string) => {
    if (existsSync(join(dir, 'kustomization.yaml'))) {
      const k = readKustomization(dir);
      found.push({ dir, kind: k.kind ?? 'Kustomization', components: (k.components ?? []).map((c) => resolve(dir, c)) });
    }
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) walk(join(dir, entry.name));
  };
  walk(resolve(root));
  return found.sort((a, b) => a.dir.localeCompare(b.dir));
}
