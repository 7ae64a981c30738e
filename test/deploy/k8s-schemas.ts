/**
 * Validation of rendered objects against the Kubernetes API as the kubernetes-models packages
 * describe it: their JSON schemas (types, required fields, enums) and their TypeScript types, whose
 * property lists catch fields the API does not have. The schemas alone accept unknown fields,
 * which the API server's strict field validation (kubectl's default) would reject.
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { PersistentVolume } from 'kubernetes-models/v1/PersistentVolume';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { K8sObject } from './kustomize.js';

interface KindModel {
  /** Module and interface of its TypeScript type. */
  module: string;
  type: string;
  create(data: K8sObject): { validate(): void };
}

// eslint-style note: the `as never` casts hand plain parsed YAML to the typed constructors.
const MODELS: Record<string, KindModel> = {
  'v1/ConfigMap': { module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap', create: (d) => new ConfigMap(d as never) },
  'v1/PersistentVolume': { module: 'kubernetes-models/v1/PersistentVolume', type: 'IPersistentVolume', create: (d) => new PersistentVolume(d as never) },
  'v1/PersistentVolumeClaim': { module: 'kubernetes-models/v1/PersistentVolumeClaim', type: 'IPersistentVolumeClaim', create: (d) => new PersistentVolumeClaim(d as never) },
  'v1/Service': { module: 'kubernetes-models/v1/Service', type: 'IService', create: (d) => new Service(d as never) },
  'apps/v1/Deployment': { module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment', create: (d) => new Deployment(d as never) },
  'policy/v1/PodDisruptionBudget': { module: 'kubernetes-models/policy/v1/PodDisruptionBudget', type: 'IPodDisruptionBudget', create: (d) => new PodDisruptionBudget(d as never) },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    type: 'IHorizontalPodAutoscaler',
    create: (d) => new HorizontalPodAutoscaler(d as never),
  },
  'monitoring.coreos.com/v1/ServiceMonitor': {
    module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
    type: 'IServiceMonitor',
    create: (d) => new ServiceMonitor(d as never),
  },
};

export function kindKey(object: Pick<K8sObject, 'apiVersion' | 'kind'>): string {
  return `${object.apiVersion}/${object.kind}`;
}

/** Throws with the schema's message when the object is not valid, or when its kind has no model here. */
export function validateAgainstSchema(object: K8sObject): void {
  const model = MODELS[kindKey(object)];
  if (!model) throw new Error(`no schema for ${kindKey(object)} (add its kubernetes-models class to test/deploy/k8s-schemas.ts)`);
  model.create(object).validate();
}

/** The TypeScript types of every kind above, read once through the compiler API. */
class ApiTypes {
  private readonly checker: ts.TypeChecker;
  private readonly roots = new Map<string, ts.Type>();

  constructor() {
    const file = fileURLToPath(new URL('./__k8s_types__.ts', import.meta.url));
    const entries = Object.entries(MODELS);
    const source = [
      ...entries.map(([, m], i) => `import type { ${m.type} as T${i} } from '${m.module}';`),
      `export interface Kinds { ${entries.map(([key], i) => `'${key}': T${i};`).join(' ')} }`,
    ].join('\n');
    const options: ts.CompilerOptions = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true, skipLibCheck: true, types: [], lib: ['lib.es5.d.ts'] };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const getSourceFile = host.getSourceFile.bind(host);
    host.readFile = (name) => (name === file ? source : readFile(name));
    host.fileExists = ((exists) => (name: string) => name === file || exists(name))(host.fileExists.bind(host));
    host.getSourceFile = (name, language, onError) => (name === file ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, onError));
    const program = ts.createProgram([file], options, host);
    const problems = program.getSemanticDiagnostics(program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    if (problems.length > 0) throw new Error(`reading the kubernetes-models types failed: ${problems.join('; ')}`);
    this.checker = program.getTypeChecker();
    const kinds = program.getSourceFile(file)!.statements.find(ts.isInterfaceDeclaration)!;
    const kindsType = this.checker.getTypeAtLocation(kinds);
    for (const [key] of entries) this.roots.set(key, this.checker.getTypeOfSymbol(kindsType.getProperty(key)!));
  }

  /** Paths of the fields in `object` that its kind's type does not declare. */
  unknownFields(object: K8sObject): string[] {
    const root = this.roots.get(kindKey(object));
    if (!root) return [`(no type for ${kindKey(object)})`];
    const found: string[] = [];
    this.walk(object, root, kindKey(object), found);
    return found;
  }

  private walk(value: unknown, type: ts.Type, path: string, found: string[]): void {
    if (value === null || typeof value !== 'object') return;
    const t = this.checker.getNonNullableType(type);
    if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
    if (Array.isArray(value)) {
      const element = this.checker.isArrayType(t) ? this.checker.getTypeArguments(t as ts.TypeReference)[0] : undefined;
      if (element) value.forEach((item, i) => this.walk(item, element, `${path}[${i}]`, found));
      return;
    }
    const members = t.isUnion() ? t.types : [t];
    for (const [key, child] of Object.entries(value)) {
      const property = members.map((m) => m.getProperty(key)).find((p) => p !== undefined);
      if (property) {
        this.walk(child, this.checker.getTypeOfSymbol(property), `${path}.${key}`, found);
        continue;
      }
      const index = members.map((m) => this.checker.getIndexInfoOfType(m, ts.IndexKind.String)).find((i) => i !== undefined);
      if (index) this.walk(child, index.type, `${path}.${key}`, found);
      else found.push(`${path}.${key}`);
    }
  }
}

let apiTypes: ApiTypes | undefined;

/** Fields of `object` that the Kubernetes API (per kubernetes-models' types) does not have. */
export function unknownFields(object: K8sObject): string[] {
  return (apiTypes ??= new ApiTypes()).unknownFields(object);
}
