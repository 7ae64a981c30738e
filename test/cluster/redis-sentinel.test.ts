/**
 * Redis Sentinel, the Redis setup docs/deploy.md recommends: a role given
 * REDIS_URL=redis+sentinel://… finds the primary through the sentinels, and after the primary dies
 * and the sentinel promotes its replica, the cluster state is read and written on the new primary.
 * Real redis-server processes: a primary, a replica and one sentinel, all on loopback.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { spawnRole, type RoleProcess } from '@maas/cli';
import { bullConnection } from '@maas/batch-jobs';
import { ClusterState, type WorkerReport } from '@maas/cluster-state';
import { makeTempDir, waitFor, writeModelVersion, addConstantModel } from '@maas/test-support';

const MASTER = 'maas-primary';
const dir = makeTempDir('maas-sentinel-');
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

/** redis-server with the given config lines; resolves once it logs that it is ready. */
async function redisServer(name: string, lines: string[], sentinel = false): Promise<ChildProcess> {
  const config = join(dir, `${name}.conf`);
  writeFileSync(config, [...lines, `dir ${dir}`, 'bind 127.0.0.1', 'save ""', 'appendonly no'].join('\n'));
  const child = spawn('redis-server', [config, ...(sentinel ? ['--sentinel'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (/ready to accept connections|Sentinel ID is/i.test(output)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${output}`)));
  });
  child.stdout!.resume();
  return child;
}

let primary: ChildProcess;
let primaryPort: number;
let replicaPort: number;
let url: string;
let state: ClusterState;
let registry: RoleProcess | undefined;

before(async () => {
  [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const sentinelPort = await freePort();
  primary = await redisServer('primary', [`port ${primaryPort}`]);
  await redisServer('replica', [`port ${replicaPort}`, `replicaof 127.0.0.1 ${primaryPort}`]);
  await redisServer('sentinel', [
    `port ${sentinelPort}`,
    `sentinel monitor ${MASTER} 127.0.0.1 ${primaryPort} 1`,
    `sentinel down-after-milliseconds ${MASTER} 500`,
    `sentinel failover-timeout ${MASTER} 5000`,
  ], true);
  url = `redis+sentinel://127.0.0.1:${sentinelPort}/${MASTER}`;
  state = ClusterState.connect(url);
});

after(async () => {
  await registry?.stop();
  await state?.close();
  for (const child of children.reverse()) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
});

/** Which port the connection's primary listens on, asked of the server itself. */
async function connectedPort(redis: Redis): Promise<number> {
  const info = await redis.info('server');
  return Number(/^tcp_port:(\d+)/m.exec(info)![1]);
}

const report = (id: string): WorkerReport => ({ id, reportedAt: Date.now() }) as unknown as WorkerReport;

test('a role given a redis+sentinel:// REDIS_URL works on the primary the sentinel names', async () => {
  const basePath = join(dir, 'models', 'adder');
  writeModelVersion(basePath, 1, addConstantModel(1));
  registry = await spawnRole(['registry', '--port=0', '--grpc_host=127.0.0.1', '--metrics_port=0', '--heartbeat_ms=300', '--model_name=adder', `--model_base_path=${basePath}`], { env: { REDIS_URL: url } });
  // The registry writes the catalogue it starts with; read it on the primary directly.
  const direct = new Redis(primaryPort, '127.0.0.1');
  try {
    await waitFor('the registry to write its catalogue', async () => (await direct.exists(state.keys.catalog)) === 1);
  } finally {
    direct.disconnect();
  }
  assert.equal(await connectedPort(state.redis), primaryPort);
  assert.deepEqual(Object.keys((await state.catalog())!.replicas), ['adder']);
  // Batch jobs' BullMQ connections are made from the same options, so they go through the sentinel too.
  const bull = new Redis(bullConnection(state.redis));
  try {
    assert.equal(await connectedPort(bull), primaryPort);
  } finally {
    bull.disconnect();
  }
});

test('after the primary dies, the sentinel’s promoted replica serves the cluster state', async () => {
  await state.publishReport(report('w1'), 60_000);
  // Make sure the replica has it before the primary goes.
  assert.equal(await state.redis.call('WAIT', 1, 5000), 1);
  primary.kill('SIGKILL');
  await once(primary, 'exit');
  await waitFor('ClusterState to reach the promoted replica', async () => {
    try {
      return (await connectedPort(state.redis)) === replicaPort && (await state.redis.call('ROLE') as [string])[0] === 'master';
    } catch {
      return false; // between the failure and the promotion
    }
  }, 30_000);
  assert.deepEqual((await state.liveWorkers()).map((w) => w.id), ['w1']);
  await state.publishReport(report('w2'), 60_000);
  assert.deepEqual((await state.liveWorkers()).map((w) => w.id).sort(), ['w1', 'w2']);
  // The role's own connection followed too: it writes back a catalogue missing from the new primary.
  await state.redis.del(state.keys.catalog);
  await waitFor('the registry to write its catalogue to the new primary', async () => (await state.catalog()) !== undefined);
  assert.deepEqual(Object.keys((await state.catalog())!.replicas), ['adder']);
});
