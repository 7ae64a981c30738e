/**
 * deploy/ checked without a cluster or a Docker engine: every kustomization renders, every object
 * validates against the Kubernetes API schemas, and every port, probe, flag, env var, config file,
 * image and install step in it agrees with the code and with CI. Drift on either side fails here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { credentials, loadPackageDefinition, type Client, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as HEALTH_PROTO } from 'grpc-health-check';
import { batchingOptionsFromParameters } from '@maas/batching';
import { spawnRole, startLocalRedis, type LocalRedis, type RoleProcess } from '@maas/cli';
import { METRICS_PATH } from '@maas/telemetry';
import { entriesFromConfig } from '@maas/registry';
import { parseBatchingParameters, parseModelServerConfig } from '@maas/text-proto';
import { callUnary, loadTfServingClients, makeTempDir, waitFor } from '@maas/test-support';
import type { WorkerReport } from '@maas/cluster-state';
import { workersWanted } from '@maas/scheduler';
import { parseFlags, type FlagSpec, type FlagValues } from '../../services/cli/src/flags.js';
import { restPortFrom } from '../../services/cli/src/common-flags.js';
import { REGISTRY_FLAGS } from '../../services/cli/src/commands/registry.js';
import { SCHEDULER_FLAGS } from '../../services/cli/src/commands/scheduler.js';
import { WORKER_FLAGS } from '../../services/cli/src/commands/worker.js';
import { findKustomizations, readYamlDocuments, renderKustomization, type K8sObject } from './kustomize.js';
import { unknownFields, validateAgainstSchema } from './k8s-schemas.js';

const ROOT = join(import.meta.dirname, '../..');
const DEPLOY = join(ROOT, 'deploy');
const IMAGES = join(DEPLOY, 'images');

/** The metric the worker HorizontalPodAutoscaler follows; the placement leader exports it (checked by scraping it below). */
const WORKER_SCALING_METRIC = 'maas_workers_wanted';
/** Names of the container ports every maas container may declare. */
const PORT_NAMES = { grpc: 'grpc', rest: 'rest', metrics: 'metrics' };
const ROLE_FLAGS: Record<string, Record<string, FlagSpec>> = { registry: REGISTRY_FLAGS, scheduler: SCHEDULER_FLAGS, worker: WORKER_FLAGS };

type Json = Record<string, unknown>;
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } } }[];
  ports?: { name?: string; containerPort: number }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
}
interface Probe {
  grpc?: { port: number; service?: string };
  tcpSocket?: { port: number | string };
  httpGet?: unknown;
  exec?: unknown;
}
interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string };
  persistentVolumeClaim?: { claimName: string };
  emptyDir?: Json;
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  terminationGracePeriodSeconds?: number;
}

// ---------- what the renders hold ----------

const kustomizations = findKustomizations(DEPLOY);
const rendered = new Map(kustomizations.filter((k) => k.kind === 'Kustomization').map((k) => [k.dir.slice(DEPLOY.length + 1), renderKustomization(k.dir)]));
const overlays = [...rendered.keys()].filter((dir) => dir.startsWith('overlays/'));

function podSpec(o: K8sObject): PodSpec {
  return ((o.spec as Json).template as Json).spec as PodSpec;
}
function podLabels(o: K8sObject): Record<string, string> {
  return (((o.spec as Json).template as Json).metadata as Json).labels as Record<string, string>;
}
function deployments(objects: K8sObject[]): K8sObject[] {
  return objects.filter((o) => o.kind === 'Deployment');
}
function selects(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}
function find(objects: K8sObject[], kind: string, name: string): K8sObject | undefined {
  return objects.find((o) => o.kind === kind && o.metadata.name === name);
}

// ---------- images and Dockerfiles ----------

interface Instruction {
  keyword: string;
  args: string;
}
/** A Dockerfile as instructions (continuations joined, comments dropped), split into stages. */
function dockerfile(file: string): { args: Instruction[]; stages: Instruction[][] } {
  const lines = readFileSync(file, 'utf8').replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const instructions = lines.map((line) => {
    const [keyword, ...rest] = line.split(/\s+/);
    return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
  });
  const firstFrom = instructions.findIndex((i) => i.keyword === 'FROM');
  const stages: Instruction[][] = [];
  for (const i of instructions.slice(firstFrom)) {
    if (i.keyword === 'FROM') stages.push([]);
    stages[stages.length - 1]!.push(i);
  }
  return { args: instructions.slice(0, firstFrom), stages };
}
function imageName(image: string): { name: string; tag?: string } {
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? { name: image.slice(0, colon), tag: image.slice(colon + 1) } : { name: image };
}
/** `maas-worker-gpu` is built by deploy/images/worker-gpu.Dockerfile. */
function dockerfileOf(image: string): string | undefined {
  const { name } = imageName(image);
  const base = name.slice(name.lastIndexOf('/') + 1);
  return base.startsWith('maas-') ? join(IMAGES, `${base.slice('maas-'.length)}.Dockerfile`) : undefined;
}
function entrypoint(file: string): string[] {
  const stages = dockerfile(file).stages;
  const line = stages[stages.length - 1]!.find((i) => i.keyword === 'ENTRYPOINT');
  return line ? (JSON.parse(line.args) as string[]) : [];
}
/** The maas role a container runs, from its image's ENTRYPOINT (`node bin/maas.js <role>`); undefined for other images. */
function roleOf(container: Container): string | undefined {
  const file = dockerfileOf(container.image);
  return file ? entrypoint(file)[2] : undefined;
}

/** Every container running a maas image, with its role, in every render. */
function maasContainers(): { where: string; deployment: K8sObject; pod: PodSpec; container: Container; role: string }[] {
  return [...rendered].flatMap(([where, objects]) =>
    deployments(objects).flatMap((deployment) =>
      podSpec(deployment).containers.flatMap((container) => {
        const role = roleOf(container);
        return role ? [{ where, deployment, pod: podSpec(deployment), container, role }] : [];
      }),
    ),
  );
}

/** A container's args with `$(VAR)` references resolved to stand-ins, parsed by the role's own flag parser. */
function parsedArgs(container: Container, role: string, values: Record<string, string> = {}): FlagValues {
  const table = ROLE_FLAGS[role];
  assert.ok(table, `no flag table for role ${role}`);
  const args = (container.args ?? []).map((a) => a.replace(/\$\((\w+)\)/g, (_, name: string) => values[name] ?? `stand-in-${name}`));
  return parseFlags(args, table);
}

function grpcPortOf(flags: FlagValues): number {
  return flags.port as number;
}

// ---------- the code's side ----------

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}
const runtimeSources = ['libs', 'services'].flatMap((group) =>
  readdirSync(join(ROOT, group)).flatMap((pkg) => {
    try {
      return sourceFiles(join(ROOT, group, pkg, 'src'));
    } catch {
      return [];
    }
  }),
);
/** Environment variables the code reads (process.env.X, env.X, env['X']). */
const envReadByCode = new Set(
  runtimeSources.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/\benv(?:\.([A-Z][A-Z0-9_]*)|\[['"]([A-Z][A-Z0-9_]*)['"]\])/g)].map((m) => m[1] ?? m[2]!)),
);

// ================= tests =================

describe('rendering', () => {
  test('every kustomization renders to objects', () => {
    assert.ok(rendered.size >= 3, `found ${rendered.size} kustomizations`);
    assert.ok(overlays.includes('overlays/small') && overlays.includes('overlays/gpu-production'), `overlays: ${overlays.join(', ')}`);
    for (const [dir, objects] of rendered) {
      assert.ok(objects.length > 0, `${dir} renders nothing`);
      const keys = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
      assert.equal(new Set(keys).size, keys.length, `${dir} renders an object twice`);
    }
  });

  test('every component is used by a rendered kustomization', () => {
    const used = new Set(kustomizations.flatMap((k) => k.components));
    for (const component of kustomizations.filter((k) => k.kind === 'Component')) {
      assert.ok(used.has(component.dir), `${component.dir} is applied by no kustomization, so nothing checks it`);
    }
  });

  test('every object, and every example, is valid against the Kubernetes API schemas, with no unknown fields', () => {
    const examples = readdirSync(join(DEPLOY, 'examples')).map((f) => join(DEPLOY, 'examples', f));
    const all = [
      ...[...rendered].flatMap(([dir, objects]) => objects.map((o) => ({ where: dir, o }))),
      ...examples.flatMap((file) => readYamlDocuments(file).map((o) => ({ where: file, o: o as unknown as K8sObject }))),
    ];
    for (const { where, o } of all) {
      assert.doesNotThrow(() => validateAgainstSchema(o), `${where}: ${o.kind}/${o.metadata.name}`);
      assert.deepEqual(unknownFields(o), [], `${where}: ${o.kind}/${o.metadata.name} has fields the API does not know`);
    }
  });

  test('the unknown-field check finds misspelled fields', () => {
    const [deployment] = deployments(rendered.get('overlays/small')!);
    const misspelled = structuredClone(deployment!);
    const pod = podSpec(misspelled) as unknown as Json;
    pod.terminationGracePeriodSecond = 30;
    (pod.containers as Json[])[0]!.readinesProbe = {};
    assert.deepEqual(unknownFields(misspelled).sort(), [
      'apps/v1/Deployment.spec.template.spec.containers[0].readinesProbe',
      'apps/v1/Deployment.spec.template.spec.terminationGracePeriodSecond',
    ]);
  });

  test('the renderer agrees with kubectl kustomize', (t) => {
    if (spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status !== 0) {
      t.skip('kubectl is not installed here; the renderer is then the only one');
      return;
    }
    for (const [dir, objects] of rendered) {
      const out = spawnSync('kubectl', ['kustomize', join(DEPLOY, dir)], { encoding: 'utf8' });
      assert.equal(out.status, 0, out.stderr);
      const theirs = parseAllDocuments(out.stdout).map((d) => d.toJS() as K8sObject);
      const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
      assert.deepEqual(objects.map(key).sort(), theirs.map(key).sort(), dir);
      for (const o of objects) assert.ok(isDeepStrictEqual(o, theirs.find((x) => key(x) === key(o))), `${dir}: ${key(o)} differs from kubectl kustomize`);
    }
  });
});

describe('the manifests against the code', () => {
  test('each maas container runs an image built here, tagged with the package version', () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const found = maasContainers();
    assert.deepEqual([...new Set(found.map((c) => c.role))].sort(), ['registry', 'scheduler', 'worker']);
    for (const { where, container } of found) assert.equal(imageName(container.image).tag, version, `${where}: ${container.image}`);
    const gpu = rendered.get('overlays/gpu-production')!;
    const worker = podSpec(find(gpu, 'Deployment', 'maas-worker')!).containers[0]!;
    assert.equal(imageName(worker.image).name, 'maas-worker-gpu');
  });

  test('every flag in the manifests exists for its role and parses', () => {
    for (const { where, container, role } of maasContainers()) {
      assert.doesNotThrow(() => parsedArgs(container, role), `${where}: maas ${role} ${(container.args ?? []).join(' ')}`);
      const names = (container.args ?? []).map((a) => a.replace(/=.*$/s, ''));
      assert.equal(new Set(names).size, names.length, `${where}: ${role} is given a flag twice (the last one would win unseen)`);
    }
  });

  test('container ports are the ports the flags make each role listen on', () => {
    for (const { where, container, role } of maasContainers()) {
      const flags = parsedArgs(container, role);
      const ports = new Map((container.ports ?? []).map((p) => [p.name, p.containerPort]));
      assert.equal(ports.get(PORT_NAMES.grpc), grpcPortOf(flags), `${where}: ${role} gRPC port`);
      assert.notEqual(grpcPortOf(flags), 0, `${where}: ${role} must listen on a fixed port, not a free one`);
      const rest = 'rest_api_port' in ROLE_FLAGS[role]! ? restPortFrom(flags.rest_api_port as number) : undefined;
      assert.equal(ports.get(PORT_NAMES.rest), rest, `${where}: ${role} REST port`);
      const metrics = 'metrics_port' in ROLE_FLAGS[role]! && (flags.metrics_port as number) > 0 ? (flags.metrics_port as number) : undefined;
      assert.equal(ports.get(PORT_NAMES.metrics), metrics, `${where}: ${role} metrics port`);
      for (const name of ports.keys()) assert.ok(Object.values(PORT_NAMES).includes(name ?? ''), `${where}: unexpected port ${name}`);
    }
  });

  test('probes ask the gRPC port: readiness through grpc.health.v1 (over TCP once TLS is on), startup and liveness at least by connecting', () => {
    for (const { where, container, role } of maasContainers()) {
      const flags = parsedArgs(container, role);
      const port = grpcPortOf(flags);
      const tls = Boolean(flags.ssl_config_file || flags.cluster_ssl_config_file);
      const named = new Map((container.ports ?? []).map((p) => [p.name, p.containerPort]));
      for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
        const probe = container[kind];
        assert.ok(probe, `${where}: ${role} has no ${kind}`);
        const target = probe.grpc?.port ?? probe.tcpSocket?.port;
        assert.ok(target !== undefined, `${where}: ${role} ${kind} is neither a gRPC nor a TCP probe`);
        assert.equal(typeof target === 'string' ? named.get(target) : target, port, `${where}: ${role} ${kind} port`);
      }
      if (tls) {
        for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
          assert.equal(container[kind]!.grpc, undefined, `${where}: ${role} ${kind}: kubelet's gRPC probes speak plaintext, and this port has TLS`);
        }
      } else {
        assert.ok(container.readinessProbe!.grpc, `${where}: ${role} readiness must be the gRPC health check`);
      }
    }
  });

  test('every setup has PDBs for schedulers and workers, a headless gRPC Service and a REST Service for schedulers; production autoscales workers and is scraped', () => {
    for (const [where, objects] of rendered) {
      const pods = deployments(objects);
      // Not the registry: one replica off the request path, where a budget would either block node drains or allow everything.
      for (const role of ['scheduler', 'worker']) {
        const deployment = find(objects, 'Deployment', `maas-${role}`)!;
        const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget' && selects(((o.spec as Json).selector as Json).matchLabels as Record<string, string>, podLabels(deployment)));
        assert.equal(pdbs.length, 1, `${where}: ${role} has ${pdbs.length} PodDisruptionBudgets`);
      }
      const scheduler = find(objects, 'Deployment', 'maas-scheduler')!;
      const services = objects.filter((o) => o.kind === 'Service' && selects((o.spec as { selector: Record<string, string> }).selector, podLabels(scheduler)));
      const targets = (s: K8sObject) => ((s.spec as Json).ports as { targetPort: string }[]).map((p) => p.targetPort).sort();
      const headless = services.filter((s) => (s.spec as Json).clusterIP === 'None');
      assert.deepEqual(headless.map(targets), [[PORT_NAMES.grpc]], `${where}: one headless Service with the schedulers' gRPC port, for client-side balancing`);
      assert.ok(services.some((s) => (s.spec as Json).clusterIP !== 'None' && targets(s).includes(PORT_NAMES.rest)), `${where}: a ClusterIP Service for the schedulers' REST port`);
      assert.equal(pods.length, 3, `${where}: registry, scheduler, worker`);
    }
    const production = rendered.get('overlays/gpu-production')!;
    const hpa = production.find((o) => o.kind === 'HorizontalPodAutoscaler' && ((o.spec as Json).scaleTargetRef as Json).name === 'maas-worker');
    assert.ok(hpa, 'gpu-production scales workers with an HPA');
    assert.ok(((hpa.spec as Json).metrics as { type: string }[]).some((m) => m.type === 'External'), 'on the external worker metric');
    assert.ok(production.some((o) => o.kind === 'ServiceMonitor'), 'gpu-production is scraped by Prometheus');
  });

  test('Services, PodDisruptionBudgets, autoscalers and the ServiceMonitor point at what exists', () => {
    for (const [where, objects] of rendered) {
      const pods = deployments(objects);
      for (const service of objects.filter((o) => o.kind === 'Service')) {
        const spec = service.spec as { selector: Record<string, string>; ports: { name: string; targetPort: string | number }[] };
        const backing = pods.filter((d) => selects(spec.selector, podLabels(d)));
        assert.equal(backing.length, 1, `${where}: Service ${service.metadata.name} selects ${backing.length} Deployments`);
        const containerPorts = podSpec(backing[0]!).containers.flatMap((c) => c.ports ?? []);
        for (const port of spec.ports) {
          assert.ok(containerPorts.some((p) => p.name === port.targetPort || p.containerPort === port.targetPort), `${where}: Service ${service.metadata.name} port ${port.name}`);
        }
      }
      for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget')) {
        const selector = ((pdb.spec as Json).selector as Json).matchLabels as Record<string, string>;
        assert.equal(pods.filter((d) => selects(selector, podLabels(d))).length, 1, `${where}: PDB ${pdb.metadata.name}`);
      }
      for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
        const spec = hpa.spec as { scaleTargetRef: { kind: string; name: string }; metrics: { type: string; external?: { metric: { name: string } } }[] };
        const target = find(objects, spec.scaleTargetRef.kind, spec.scaleTargetRef.name);
        assert.ok(target, `${where}: HPA ${hpa.metadata.name} scales nothing`);
        assert.equal((target.spec as Json).replicas, undefined, `${where}: ${target.metadata.name} sets replicas, which every apply would reset under its HPA`);
        for (const metric of spec.metrics.filter((m) => m.type === 'External')) assert.equal(metric.external!.metric.name, WORKER_SCALING_METRIC);
      }
      for (const monitor of objects.filter((o) => o.kind === 'ServiceMonitor')) {
        const spec = monitor.spec as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] };
        const services = objects.filter((o) => o.kind === 'Service' && selects(spec.selector.matchLabels, o.metadata.labels));
        assert.deepEqual(services.map((s) => s.metadata.name).sort(), ['maas-registry', 'maas-scheduler', 'maas-worker'], `${where}: one scraped Service per role`);
        for (const endpoint of spec.endpoints) {
          assert.equal(endpoint.path, METRICS_PATH);
          for (const s of services) assert.ok(((s.spec as Json).ports as { name: string }[]).some((p) => p.name === endpoint.port), `${where}: ${s.metadata.name} has no port ${endpoint.port}`);
        }
      }
    }
  });

  test('env vars set on maas containers are read by the code or used in their args', () => {
    for (const { where, container, role } of maasContainers()) {
      for (const { name } of container.env ?? []) {
        const inArgs = (container.args ?? []).some((a) => a.includes(`$(${name})`));
        assert.ok(inArgs || envReadByCode.has(name), `${where}: ${role} sets ${name}, which no code reads`);
      }
      for (const [, name] of (container.args ?? []).join(' ').matchAll(/\$\((\w+)\)/g)) {
        assert.ok((container.env ?? []).some((e) => e.name === name), `${where}: ${role} args use $(${name}), which the container does not define (Kubernetes would pass it literally)`);
      }
      assert.ok(envReadByCode.has('REDIS_URL') && (container.env ?? []).some((e) => e.name === 'REDIS_URL'), `${where}: ${role} gets REDIS_URL`);
    }
  });

  test('every Secret the manifests need is created step by step in docs/deploy.md', () => {
    const guide = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
    for (const { where, container, pod, role } of maasContainers()) {
      const fromEnv = (container.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef] : []));
      const flags = parsedArgs(container, role);
      const fromFiles = Object.values(flags)
        .filter((v): v is string => typeof v === 'string' && v.startsWith('/'))
        .flatMap((path) => {
          const mount = container.volumeMounts?.find((m) => m.mountPath === posix.dirname(path));
          const secret = pod.volumes?.find((v) => v.name === mount?.name)?.secret;
          return secret ? [{ name: secret.secretName, key: posix.basename(path) }] : [];
        });
      for (const ref of [...fromEnv, ...fromFiles]) {
        const created = new RegExp(`create secret generic ${ref.name}\\b[^\\n]*--from-(?:literal|file)=${ref.key}=`).test(guide);
        assert.ok(created, `${where}: Secret ${ref.name} (key ${ref.key}) is not created in docs/deploy.md`);
      }
    }
  });

  test('config files named by flags come from mounted ConfigMaps and parse as the code parses them', () => {
    for (const [where, objects] of rendered) {
      for (const { container, pod, role } of maasContainers().filter((c) => c.where === where)) {
        const flags = parsedArgs(container, role);
        for (const [flag, value] of Object.entries(flags).filter(([name, v]) => name.endsWith('_file') && typeof v === 'string')) {
          const path = value as string;
          const mount = container.volumeMounts?.find((m) => m.mountPath === posix.dirname(path));
          assert.ok(mount, `${where}: --${flag}=${path} is in no mounted volume`);
          const volume = pod.volumes?.find((v) => v.name === mount.name);
          // A Secret's contents are the operator's: the Secrets test checks the guide creates it with this key.
          if (volume?.secret) continue;
          const configMap = volume?.configMap && find(objects, 'ConfigMap', volume.configMap.name);
          assert.ok(configMap, `${where}: --${flag} is served by neither a ConfigMap nor a Secret`);
          const text = (configMap.data as Record<string, string>)[posix.basename(path)];
          assert.ok(text !== undefined, `${where}: ConfigMap ${configMap.metadata.name} has no key ${posix.basename(path)}`);
          if (flag === 'model_config_file') {
            const entries = entriesFromConfig(parseModelServerConfig(text));
            const worker = maasContainers().find((c) => c.where === where && c.role === 'worker')!;
            const models = worker.container.volumeMounts!.find((m) => m.name === 'models')!;
            for (const entry of entries) assert.ok(entry.basePath.startsWith(`${models.mountPath}/`), `${where}: ${entry.name}'s base_path is outside the workers' model store`);
          } else if (flag === 'batching_parameters_file') {
            assert.equal(flags.enable_batching, true, `${where}: --batching_parameters_file without --enable_batching`);
            const options = batchingOptionsFromParameters(parseBatchingParameters(text));
            assert.ok(options.numBatchThreads > 0);
          } else {
            assert.fail(`${where}: --${flag} has no content check here yet`);
          }
        }
      }
    }
  });

  test('volumes: every mount has a volume, every claim and ConfigMap exists, the model store is read-only to workers', () => {
    for (const [where, objects] of rendered) {
      for (const d of deployments(objects)) {
        const pod = podSpec(d);
        for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
          for (const m of c.volumeMounts ?? []) assert.ok(pod.volumes?.some((v) => v.name === m.name), `${where}: ${c.name} mounts missing volume ${m.name}`);
        }
        for (const v of pod.volumes ?? []) {
          if (v.configMap) assert.ok(find(objects, 'ConfigMap', v.configMap.name), `${where}: no ConfigMap ${v.configMap.name}`);
          if (v.persistentVolumeClaim) assert.ok(find(objects, 'PersistentVolumeClaim', v.persistentVolumeClaim.claimName), `${where}: no claim ${v.persistentVolumeClaim.claimName}`);
        }
      }
      const worker = podSpec(find(objects, 'Deployment', 'maas-worker')!);
      assert.equal(worker.containers[0]!.volumeMounts!.find((m) => m.name === 'models')?.readOnly, true, `${where}: workers mount the model store read-only`);
      const claim = find(objects, 'PersistentVolumeClaim', 'maas-models');
      if (claim) assert.deepEqual((claim.spec as Json).accessModes, ['ReadOnlyMany'], `${where}: the shared model store is ReadOnlyMany`);
      else assert.ok(worker.initContainers?.some((c) => c.name === 'model-sync'), `${where}: workers have neither the shared model store nor a sync`);
    }
  });

  test('pods run as the images’ unprivileged user on a read-only root, with somewhere for tsx’s cache', () => {
    for (const { where, container, pod, role } of maasContainers()) {
      const stages = dockerfile(dockerfileOf(container.image)!).stages;
      const user = stages[stages.length - 1]!.find((i) => i.keyword === 'USER')!.args;
      assert.equal(pod.securityContext?.runAsNonRoot, true, `${where}: ${role}`);
      assert.equal(`${pod.securityContext?.runAsUser}:${pod.securityContext?.runAsUser}`, user, `${where}: ${role} runs as the image's USER`);
      assert.equal(container.securityContext?.readOnlyRootFilesystem, true);
      assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
      const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
      assert.ok(tmp && pod.volumes?.find((v) => v.name === tmp.name)?.emptyDir, `${where}: ${role} needs a writable /tmp`);
    }
  });

  test('resource requests are the measured ones in docs/deploy.md, and memory requests cover the measured peaks', () => {
    const guide = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
    const section = guide.slice(guide.indexOf('## Sizing'), guide.indexOf('\n## ', guide.indexOf('## Sizing') + 1));
    const header = section.split('\n').find((l) => l.startsWith('| role |'))!.split('|').map((c) => c.trim());
    const column = (name: string) => header.indexOf(name);
    const rows = section.split('\n').filter((l) => /^\| (registry|scheduler|worker)\b/.test(l)).map((l) => l.split('|').map((c) => c.trim()));
    assert.deepEqual(rows.map((r) => r[1]!.split(' ')[0]).sort(), ['registry', 'scheduler', 'worker'], 'one Sizing row per role');
    const mebibytes = (quantity: string) => {
      const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
      assert.ok(match, `memory quantity ${quantity}`);
      return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
    };
    const base = rendered.get('base')!;
    for (const row of rows) {
      const role = row[1]!.split(' ')[0]!;
      const container = podSpec(find(base, 'Deployment', `maas-${role}`)!).containers[0] as Container & { resources: { requests: Record<string, string>; limits: Record<string, string> } };
      const { requests, limits } = container.resources;
      assert.equal(row[column('memory request / limit')], `${requests.memory} / ${limits.memory}`, `${role}: memory in docs/deploy.md vs deploy/base`);
      assert.equal(row[column('CPU request')], requests.cpu, `${role}: CPU request in docs/deploy.md vs deploy/base`);
      const peak = /^(\d+) MiB$/.exec(row[column('peak (VmHWM)')]!);
      assert.ok(peak, `${role}: a measured peak`);
      assert.ok(mebibytes(requests.memory!) >= Number(peak[1]), `${role}: memory request ${requests.memory} is below the measured peak ${peak[1]} MiB`);
      assert.match(row[column('CPU per prediction')]!, /\d ms/, `${role}: a measured CPU cost`);
    }
  });

  test('the grace period covers the pre-stop wait and the gRPC drain bound in the code', () => {
    const server = readFileSync(join(ROOT, 'libs/serving-api/src/grpc/grpc-server.ts'), 'utf8');
    const drain = /export async function stopGrpcServer\(server: Server, graceMs = (\d+)\)/.exec(server);
    assert.ok(drain, 'stopGrpcServer changed: update how this test reads its drain bound');
    const drainSeconds = Number(drain[1]) / 1000;
    for (const { where, container, pod, role } of maasContainers()) {
      const preStop = container.lifecycle?.preStop?.exec?.command;
      const waitSeconds = preStop?.[0] === 'sleep' ? Number(preStop[1]) : 0;
      const grace = pod.terminationGracePeriodSeconds ?? 30;
      assert.ok(grace >= 2 * (waitSeconds + drainSeconds), `${where}: ${role} grace ${grace}s for ${waitSeconds}s wait + ${drainSeconds}s drain, with room`);
    }
  });

  test('security is all or nothing: auth and mTLS on every role, TLS on the scheduler, all from Secrets', () => {
    let secured = 0;
    for (const [where] of rendered) {
      const roles = maasContainers().filter((c) => c.where === where).map((c) => ({ ...c, flags: parsedArgs(c.container, c.role) }));
      const setting = (flag: string) => new Set(roles.map((r) => (r.flags[flag] === undefined ? '(unset)' : String(r.flags[flag]))));
      for (const flag of ['auth_config_file', 'cluster_ssl_config_file']) {
        assert.equal(setting(flag).size, 1, `${where}: --${flag} differs between roles: ${[...setting(flag)].join(', ')}`);
      }
      const scheduler = roles.find((r) => r.role === 'scheduler')!;
      if (roles[0]!.flags.cluster_ssl_config_file === undefined) {
        assert.equal(scheduler.flags.ssl_config_file, undefined, `${where}: TLS to clients without mTLS between roles`);
        continue;
      }
      secured++;
      assert.ok(scheduler.flags.ssl_config_file && roles[0]!.flags.auth_config_file, `${where}: mTLS without client TLS or auth`);
      for (const r of roles.filter((x) => x.role !== 'scheduler')) {
        // Peers check the certificate against the name they dial: a pod IP would need a SAN per pod.
        assert.ok(!String(r.flags.advertise_host).includes('$(POD_IP)'), `${where}: ${r.role} advertises its pod IP under mTLS`);
      }
      const worker = roles.find((r) => r.role === 'worker')!;
      const subdomain = (worker.pod as unknown as { subdomain?: string }).subdomain;
      const headless = subdomain && find(rendered.get(where)!, 'Service', subdomain);
      assert.ok(headless && (headless.spec as Json).clusterIP === 'None' && (headless.spec as Json).publishNotReadyAddresses === true, `${where}: worker DNS names need a headless Service that keeps not-ready pods`);
      assert.ok(String(worker.flags.advertise_host).includes(`.${subdomain}.`), `${where}: workers advertise their name under ${subdomain}`);
      for (const r of roles) {
        for (const flag of ['auth_config_file', 'cluster_ssl_config_file', 'ssl_config_file']) {
          const path = r.flags[flag] as string | undefined;
          if (!path) continue;
          const mount = r.container.volumeMounts?.find((m) => m.mountPath === posix.dirname(path));
          assert.ok(mount && r.pod.volumes?.find((v) => v.name === mount.name)?.secret, `${where}: ${r.role} --${flag} is not read from a Secret`);
        }
      }
    }
    assert.ok(rendered.get('overlays/gpu-production') && secured > 0, 'the production overlay runs with auth and TLS');
  });

  test('GPU workers ask for a GPU, land on GPU nodes, and may use webgpu', () => {
    const gpu = rendered.get('overlays/gpu-production')!;
    const pod = podSpec(find(gpu, 'Deployment', 'maas-worker')!);
    const worker = pod.containers[0]!;
    const resources = (worker as unknown as { resources: { limits: Record<string, string> } }).resources;
    assert.equal(resources.limits['nvidia.com/gpu'], '1');
    assert.ok(Object.keys((pod as unknown as { nodeSelector: Json }).nodeSelector).some((k) => k.startsWith('nvidia.com/')));
    assert.ok((pod as unknown as { tolerations: { key: string }[] }).tolerations.some((t) => t.key === 'nvidia.com/gpu'));
    const providers = String(parsedArgs(worker, 'worker').execution_providers);
    assert.ok(providers === 'auto' || providers.split(',').includes('webgpu'), `execution providers: ${providers}`);
    for (const [where, objects] of rendered) {
      if (where === 'overlays/gpu-production') continue;
      const cpu = podSpec(find(objects, 'Deployment', 'maas-worker')!).containers[0]!;
      assert.ok(!JSON.stringify(cpu).includes('nvidia.com/gpu'), `${where}: a CPU setup asks for GPUs`);
    }
  });
});

describe('images', () => {
  const files = readdirSync(IMAGES).filter((f) => f.endsWith('.Dockerfile'));
  const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8').split('\n').map((l) => l.trim());

  test('one image per role, and a GPU worker', () => {
    assert.deepEqual(files.sort(), ['registry.Dockerfile', 'scheduler.Dockerfile', 'worker-gpu.Dockerfile', 'worker.Dockerfile']);
    for (const file of files) {
      const role = file.replace('.Dockerfile', '').replace('-gpu', '');
      const bin = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin.maas;
      assert.deepEqual(entrypoint(join(IMAGES, file)), ['node', posix.normalize(bin!), role], file);
    }
  });

  test('multi-stage, installing exactly as CI does, running unprivileged', () => {
    const ciInstall = ci.filter((l) => l.startsWith('npm ci'));
    assert.equal(ciInstall.length, 1, '.ci/run has one npm ci');
    const installStages = files.map((file) => JSON.stringify(dockerfile(join(IMAGES, file)).stages[0]));
    assert.equal(new Set(installStages).size, 1, 'the install stage is the same in every image');
    for (const file of files) {
      const { stages } = dockerfile(join(IMAGES, file));
      assert.ok(stages.length >= 2, `${file} is multi-stage`);
      const install = stages[0]!;
      const runs = install.filter((i) => i.keyword === 'RUN').map((i) => i.args);
      assert.deepEqual(runs.filter((r) => r.startsWith('npm ci')), ciInstall, `${file}: npm ci as CI runs it`);
      const copyAll = install.findIndex((i) => i.keyword === 'COPY' && i.args === '. .');
      const ciStep = install.findIndex((i) => i.keyword === 'RUN' && i.args.startsWith('npm ci'));
      assert.ok(copyAll >= 0 && copyAll < ciStep, `${file}: the whole context (.npmrc, lock, workspaces) is there before npm ci`);
      assert.ok(!runs.some((r) => /ignore-scripts|dangerously-allow-all-scripts|npm install(?! -g npm@)/.test(r)), `${file}: install scripts policy bypassed`);
      const user = stages[stages.length - 1]!.find((i) => i.keyword === 'USER');
      assert.ok(user && /^[1-9]\d*:[1-9]\d*$/.test(user.args), `${file}: final stage runs as a numeric non-root user`);
    }
  });

  test('the images use the Node major and the npm that CI runs', () => {
    const npm = spawnSync('npm', ['--version'], { encoding: 'utf8' });
    assert.equal(npm.status, 0, 'npm --version');
    for (const file of files) {
      const args = Object.fromEntries(dockerfile(join(IMAGES, file)).args.filter((i) => i.keyword === 'ARG').map((i) => i.args.split('=') as [string, string]));
      assert.equal(args.NPM_VERSION, npm.stdout.trim(), `${file}: npm (allowScripts needs the npm CI has)`);
      assert.equal(args.NODE_VERSION?.split('.')[0], process.versions.node.split('.')[0], `${file}: Node major`);
    }
  });

  test('the GPU worker carries the Vulkan loader and asks the NVIDIA runtime for graphics', () => {
    const text = readFileSync(join(IMAGES, 'worker-gpu.Dockerfile'), 'utf8');
    assert.match(text, /apt-get install[^\n]*\blibvulkan1\b/);
    assert.match(text, /NVIDIA_DRIVER_CAPABILITIES=[^\s]*\bgraphics\b/);
  });

  test('the build context keeps what the install and the runtime need', () => {
    const ignores = files.map((f) => readFileSync(join(IMAGES, `${f}.dockerignore`), 'utf8'));
    assert.equal(new Set(ignores).size, 1, 'the same .dockerignore for every image');
    const patterns = ignores[0]!.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const regex = (p: string) =>
      new RegExp(`^${p.split('**/').map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')).join('(?:.*/)?')}(?:/.*)?$`);
    const needed = ['.npmrc', 'package.json', 'package-lock.json', 'bin/maas.js', 'tsconfig.json', 'tsconfig.base.json', 'proto', 'models/text_direction/1/model.onnx', 'libs/serving-api/src/index.ts', 'services/cli/src/main.ts'];
    for (const path of needed) assert.ok(!patterns.some((p) => regex(p).test(path)), `${path} is kept out of the build context`);
    assert.ok(patterns.some((p) => regex(p).test('libs/protos/node_modules/x')), 'host node_modules are kept out');
  });

  test('`npm prune --omit=dev` keeps every package the runtime imports', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; link?: boolean; resolved?: string }> };
    const workspaces = new Map<string, string>();
    for (const group of ['libs', 'services']) {
      for (const dir of readdirSync(join(ROOT, group))) {
        const pkg = JSON.parse(readFileSync(join(ROOT, group, dir, 'package.json'), 'utf8')) as { name: string; exports: { '.': string } };
        workspaces.set(pkg.name, join(ROOT, group, dir, pkg.exports['.']));
      }
    }
    const seen = new Set<string>();
    const packages = new Map<string, string>();
    const queue = [join(ROOT, 'bin/maas.js')];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      const specifiers = [...text.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm)].map((m) => m[1] ?? m[2]!);
      for (const spec of specifiers) {
        if (spec.startsWith('node:')) continue;
        if (spec.startsWith('.')) queue.push(join(dirname(file), spec.replace(/\.js$/, '.ts')));
        else if (workspaces.has(spec)) queue.push(workspaces.get(spec)!);
        else packages.set(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!, file);
      }
    }
    assert.ok(seen.size > 20, `followed ${seen.size} runtime files`);
    for (const [pkg, from] of packages) {
      const entry = lock.packages[`node_modules/${pkg}`];
      assert.ok(entry, `${pkg} (imported by ${from}) is not in package-lock.json`);
      assert.notEqual(entry.dev, true, `${pkg} (imported by ${from}) is a dev-only package: the images prune it`);
    }
  });
});

describe('the roles run with the manifests’ args (overlays/small, on loopback)', () => {
  const objects = rendered.get('overlays/small')!;
  const root = makeTempDir('maas-deploy-');
  let redis: LocalRedis | undefined;
  const roles = new Map<string, RoleProcess>();
  const logs = new Map<string, string>();
  /** Ports a role announced in its ready line. */
  const port = (role: string, name: 'grpcPort' | 'metricsPort') => (roles.get(role)!.ready as unknown as Record<string, number>)[name]!;

  /** Files the pod would see: ConfigMaps and the model store, under `root`. */
  function materialize(pod: PodSpec, container: Container): void {
    for (const mount of container.volumeMounts ?? []) {
      const volume = pod.volumes!.find((v) => v.name === mount.name)!;
      const dir = join(root, mount.mountPath);
      mkdirSync(dirname(dir), { recursive: true });
      if (volume.configMap) {
        mkdirSync(dir, { recursive: true });
        for (const [key, text] of Object.entries(find(objects, 'ConfigMap', volume.configMap.name)!.data as Record<string, string>)) {
          writeFileSync(join(dir, key), text.replace(/"(\/[^"]+)"/g, (_, path: string) => `"${join(root, path)}"`));
        }
      } else if (volume.persistentVolumeClaim) {
        mkdirSync(dir, { recursive: true });
        symlinkSync(join(ROOT, 'models/text_direction'), join(dir, 'text_direction'));
      } else {
        mkdirSync(dir, { recursive: true });
      }
    }
  }

  /** The container's args on this machine: files under `root`, free loopback ports. */
  function localArgs(container: Container, role: string): string[] {
    return [
      role,
      ...(container.args ?? []).map((arg) =>
        arg
          .replace(/\$\(POD_IP\)/g, '127.0.0.1')
          .replace(/\$\(POD_NAME\)/g, 'maas-worker-0')
          .replace(/^--port=\d+$/, '--port=0')
          .replace(/^--rest_api_port=\d+$/, '--rest_api_port=-1')
          .replace(/^(--\w+_file)=(\/.*)$/, (_, flag: string, path: string) => `${flag}=${join(root, path)}`),
      ),
      '--grpc_host=127.0.0.1',
      '--metrics_port=-1',
    ];
  }

  before(async () => {
    redis = await startLocalRedis();
    for (const role of ['registry', 'worker', 'scheduler']) {
      const deployment = find(objects, 'Deployment', `maas-${role}`)!;
      const pod = podSpec(deployment);
      const container = pod.containers[0]!;
      assert.equal(roleOf(container), role);
      materialize(pod, container);
      logs.set(role, '');
      const onLog = (line: string) => logs.set(role, `${logs.get(role)}${line}\n`);
      roles.set(role, await spawnRole(localArgs(container, role), { env: { REDIS_URL: redis.url }, onLog }));
    }
  });

  after(async () => {
    for (const role of ['scheduler', 'worker', 'registry']) await roles.get(role)?.stop();
    await redis?.stop();
  });

  test('a TF Serving client gets a prediction through the scheduler', async () => {
    const clients = loadTfServingClients(`127.0.0.1:${port('scheduler', 'grpcPort')}`);
    try {
      const request = {
        model_spec: { name: 'text_direction' },
        inputs: {
          x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [1, 3, 48, 192].map((size) => ({ size: String(size) })) }, tensor_content: Buffer.from(new Float32Array(3 * 48 * 192).fill(0.5).buffer) },
        },
      };
      let response: { outputs: Record<string, { tensor_shape: { dim: { size: string }[] } }> } | undefined;
      const until = Date.now() + 120_000;
      while (!response && Date.now() < until) {
        response = await callUnary<NonNullable<typeof response>>(clients.prediction, 'Predict', request, { deadlineMs: 10_000 }).catch(async () => {
          await new Promise((r) => setTimeout(r, 100)); // placement has not loaded the model yet
          return undefined;
        });
      }
      assert.ok(response, `no prediction within 120 s; worker log:\n${logs.get('worker')}`);
      const [output] = Object.values(response.outputs);
      assert.deepEqual(output!.tensor_shape.dim.map((d) => d.size), ['1', '2']);
    } finally {
      clients.close();
    }
  });

  test('every role serves Prometheus text at the path the ServiceMonitor scrapes', async () => {
    for (const role of roles.keys()) {
      assert.ok(port(role, 'metricsPort'), `${role} announced no metrics port`);
      const response = await fetch(`http://127.0.0.1:${port(role, 'metricsPort')}${METRICS_PATH}`);
      assert.equal(response.status, 200, `${role} ${METRICS_PATH}`);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/, `${role} answers Prometheus text`);
      // The scheduler has served the prediction above, so its request meters have samples.
      if (role === 'scheduler') assert.match(await response.text(), /^maas_\w+/m);
      else await response.body?.cancel();
    }
  });

  test('the scheduler leading placement exports the metric the worker HPA follows, with the labels it selects on', async () => {
    const hpa = find(rendered.get('overlays/gpu-production')!, 'HorizontalPodAutoscaler', 'maas-worker')!;
    const [external] = ((hpa.spec as Json).metrics as { external: { metric: { name: string; selector: { matchLabels: Record<string, string> } } } }[]).map((m) => m.external);
    const { name, selector } = external!.metric;
    let series: string[] = [];
    // Placement has run (the prediction above needed it); the gauge follows its last round.
    await waitFor(`${name} on the scheduler's ${METRICS_PATH}`, async () => {
      const text = await (await fetch(`http://127.0.0.1:${port('scheduler', 'metricsPort')}${METRICS_PATH}`)).text();
      series = text.split('\n').filter((line) => line.startsWith(`${name}{`));
      return series.length > 0;
    });
    for (const key of Object.keys(selector.matchLabels)) assert.ok(series.every((s) => s.includes(`${key}="`)), `${name} has no label ${key}: ${series.join('; ')}`);
    // One CPU worker runs and nothing is missing: the HPA would keep one.
    assert.ok(series.some((s) => /kind="cpu"[^}]*\} 1$/.test(s)), series.join('; '));
    // The label value the HPA selects is one the code gives GPU workers.
    const gpuWorker = { id: 'g', draining: false, capacity: { providers: ['webgpu', 'cpu'] } } as unknown as WorkerReport;
    assert.ok(workersWanted([gpuWorker], undefined).some((w) => w.kind === selector.matchLabels.kind && w.count === 1));
  });

  test('every probed gRPC port answers grpc.health.v1.Health SERVING', async () => {
    const definition = loadSync(HEALTH_PROTO, { keepCase: true, enums: String });
    const Health = (loadPackageDefinition(definition) as unknown as { grpc: { health: { v1: { Health: ServiceClientConstructor } } } }).grpc.health.v1.Health;
    for (const role of roles.keys()) {
      const client: Client = new Health(`127.0.0.1:${port(role, 'grpcPort')}`, credentials.createInsecure());
      try {
        let status = '';
        // The worker turns SERVING once its placed model is loaded and warmed.
        const until = Date.now() + 30_000;
        while (status !== 'SERVING' && Date.now() < until) {
          status = await callUnary<{ status: string }>(client, 'Check', { service: '' }, { deadlineMs: 2000 }).then((r) => r.status, (e: Error) => e.message);
          if (status !== 'SERVING') await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(status, 'SERVING', `${role} on its probed port`);
      } finally {
        client.close();
      }
    }
  });
});


