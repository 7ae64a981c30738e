import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ModelVersionStatus_State } from '@maas/protos';
import type { ChaosCluster } from './cluster.js';

/** One thing that goes wrong, and what "recovered" means for it beyond a healthy cluster. */
export interface Fault {
  name: string;
  /** Does the damage (and what an orchestrator would do next, e.g. start a replacement); returns what was hit. */
  inject(cluster: ChaosCluster, random: () => number): Promise<string>;
  recovered?(cluster: ChaosCluster): Promise<boolean>;
  /** What an operator does once the fault has played out. */
  cleanUp?(cluster: ChaosCluster): void;
}

const pick = (count: number, random: () => number) => Math.floor(random() * count);

const BROKEN_VERSION = 2;

export const FAULTS: Record<string, Fault> = {
  'kill-worker': {
    name: 'kill -9 a worker (a new one starts)',
    async inject(cluster, random) {
      const index = pick(cluster.workers.length, random);
      const id = cluster.workers[index]!.id!;
      await cluster.replaceWorker(index);
      return `worker ${id.slice(0, 8)}`;
    },
  },
  'kill-scheduler': {
    name: 'kill -9 the scheduler (restarted on its port)',
    async inject(cluster) {
      await cluster.restartScheduler();
      return 'scheduler';
    },
  },
  'kill-registry': {
    name: 'kill -9 the registry (restarted)',
    async inject(cluster) {
      await cluster.restartRegistry();
      return 'registry';
    },
  },
  'restart-redis': {
    name: 'restart Redis (1 s down)',
    async inject(cluster) {
      await cluster.restartRedis(1000);
      return 'redis';
    },
  },
  'slow-worker': {
    name: 'slow worker: SIGSTOP 1.5 s / SIGCONT 0.5 s, 3 times',
    async inject(cluster, random) {
      const index = pick(cluster.workers.length, random);
      await cluster.pauseWorker(index, 3, 1500, 500);
      return `worker ${cluster.workers[index]!.id!.slice(0, 8)}`;
    },
  },
  'corrupt-model': {
    name: 'corrupt model file: a new version whose model.onnx is garbage',
    async inject(cluster) {
      cluster.corruptNewVersion(BROKEN_VERSION);
      return `${cluster.modelBase}/${BROKEN_VERSION}/model.onnx`;
    },
    /** The broken version ended with an error while version 1 stays AVAILABLE. */
    async recovered(cluster) {
      const versions = (await cluster.modelStatus()).modelVersionStatus;
      const broken = versions.find((v) => v.version === BigInt(BROKEN_VERSION));
      const serving = versions.find((v) => v.version === 1n);
      return broken?.state === ModelVersionStatus_State.END && !!broken.status?.errorMessage && serving?.state === ModelVersionStatus_State.AVAILABLE;
    },
    cleanUp(cluster) {
      rmSync(join(cluster.modelBase, String(BROKEN_VERSION)), { recursive: true, force: true });
    },
  },
};

/** Every fault once, the broken model last (a fresh worker cannot load a model whose newest version is broken, as in TF Serving). */
export const ALL_FAULTS = ['kill-worker', 'slow-worker', 'kill-scheduler', 'kill-registry', 'restart-redis', 'corrupt-model'];
