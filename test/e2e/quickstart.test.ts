/**
 * What README.md promises a new user, run as written: `npm start` serves the bundled model and the
 * README's REST and gRPC requests get the answers it shows; `npx maas serve` works from the repo
 * root, with TF Serving's `--flag value` form and its container's MODEL_NAME / MODEL_BASE_PATH.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { addConstantModel, callUnary, loadTfServingClients, makeTempDir, writeModelVersion } from '@maas/test-support';

const ROOT = join(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

interface Started {
  child: ChildProcess;
  grpcPort: number;
  restPort?: number;
  log: () => string;
  stop: () => Promise<void>;
}

/**
 * Runs an npm command (npm start, npx …) in its own process group, so stopping it stops the
 * server npm started too, and resolves on the server's ready line.
 */
async function startThroughNpm(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Started> {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let log = '';
  createInterface({ input: child.stderr! }).on('line', (line) => (log += `${line}\n`));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  };
  const ready = await new Promise<{ grpcPort: number; restPort?: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} ${args.join(' ')}: no ready line within 90 s:\n${log}`)), 90_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = line.startsWith('{') ? (JSON.parse(line) as { event?: string; grpcPort: number; restPort?: number }) : undefined;
      if (event?.event === 'ready') {
        clearTimeout(timer);
        resolve(event);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before it was ready:\n${log}`));
    });
  }).catch(async (error: Error) => {
    await stop();
    throw error;
  });
  return { child, ...ready, log: () => log, stop };
}

/** The first match of `pattern` in the README, or a failure naming what the README no longer shows. */
function fromReadme(pattern: RegExp, what: string): RegExpExecArray {
  const match = pattern.exec(README);
  assert.ok(match, `README.md no longer shows ${what} (${pattern})`);
  return match;
}

test('README names exactly two set-up commands, and .ci/run runs the test one', () => {
  const block = fromReadme(/## The two commands[\s\S]*?```sh\n([\s\S]*?)```/, 'its two commands')[1]!;
  const commands = block.split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);
  assert.deepEqual(commands, ['npm install && npm start', 'npm ci && npm test']);
  const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8').split('\n').map((l) => l.trim());
  assert.deepEqual(ci.filter((l) => /^npm /.test(l)).map((l) => l.replace(/ --no-audit --no-fund$/, '')), ['npm ci', 'npm test']);
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  assert.match(scripts.start!, /^node bin\/maas\.js serve /);
});

test('Nx is configured never to reach a cloud service', () => {
  const nx = JSON.parse(readFileSync(join(ROOT, 'nx.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(nx.neverConnectToCloud, true);
  assert.equal(nx.nxCloudId ?? nx.nxCloudAccessToken ?? nx.accessToken, undefined);
  assert.match(readFileSync(join(ROOT, '.ci/run'), 'utf8'), /NX_NO_CLOUD=true/);
});

describe('npm start and the README’s requests', () => {
  let server: Started;

  before(async () => {
    // The README's ports are the defaults; free ones here, so the test runs beside anything else.
    server = await startThroughNpm('npm', ['start', '--', '--port=0', '--rest_api_port=-1', '--grpc_host=127.0.0.1', '--metrics_port=0']);
  });

  after(async () => {
    await server?.stop();
  });

  test('the README’s REST status and predict requests get the answers it shows', async () => {
    const base = `http://127.0.0.1:${server.restPort}`;
    const statusPath = fromReadme(/curl -s localhost:8501(\/v1\/models\/\w+)\s/, 'a status request')[1]!;
    const status = await fetch(`${base}${statusPath}`);
    assert.equal(status.status, 200);
    assert.match(await status.text(), /"state": "AVAILABLE"/);

    // The body is made by the README's own node -e script, and posted where its curl posts it.
    const script = fromReadme(/node -e '([^']+)' > (\S+)/, 'the request body script')[1]!;
    const made = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    assert.equal(made.status, 0, made.stderr);
    const [, predictPath, shown] = fromReadme(/curl -s -d @\S+ localhost:8501(\S+:predict)\s+#\s*(\{.*\})/, 'a predict request');
    const response = await fetch(`${base}${predictPath}`, { method: 'POST', body: made.stdout });
    assert.equal(response.status, 200);
    const { predictions } = (await response.json()) as { predictions: number[][] };
    // The README rounds the numbers ("0.503..."): equal to the digits it shows.
    const expected = [...shown!.matchAll(/(\d+\.(\d+))\.\.\./g)].map((m) => ({ value: Number(m[1]), digits: m[2]!.length }));
    assert.equal(expected.length, 2, `README shows ${shown}`);
    assert.equal(predictions.length, 1);
    predictions[0]!.forEach((p, i) => assert.equal(p.toFixed(expected[i]!.digits), expected[i]!.value.toFixed(expected[i]!.digits), `prediction ${p} vs README ${shown}`));
  });

  test('the README’s gRPC request (input alias, shape, output alias) works through a TF Serving client', async () => {
    const [, model] = fromReadme(/req\.model_spec\.name = "(\w+)"/, 'the gRPC model name');
    const [, input, dims] = fromReadme(/req\.inputs\["([^"]+)"\]\.CopyFrom\(tf\.make_tensor_proto\(np\.full\(\(([\d, ]+)\), 0\.5, np\.float32\)\)\)/, 'the gRPC input');
    const [, output] = fromReadme(/\.outputs\["([^"]+)"\]/, 'the gRPC output alias');
    const shape = dims!.split(',').map((d) => Number(d.trim()));
    const clients = loadTfServingClients(`127.0.0.1:${server.grpcPort}`);
    try {
      const values = new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5);
      const response = await callUnary<{ outputs: Record<string, { tensor_content: Buffer }> }>(clients.prediction, 'Predict', {
        model_spec: { name: model },
        inputs: { [input!]: { dtype: 'DT_FLOAT', tensor_shape: { dim: shape.map((size) => ({ size: String(size) })) }, tensor_content: Buffer.from(values.buffer) } },
      }, { deadlineMs: 10_000 });
      assert.deepEqual(Object.keys(response.outputs), [output]);
      const probabilities = new Float32Array(new Uint8Array(response.outputs[output!]!.tensor_content).buffer);
      assert.equal(probabilities.length, 2);
      assert.ok(Math.abs(probabilities[0]! + probabilities[1]! - 1) < 1e-5, `softmax sums to 1: ${probabilities}`);
    } finally {
      clients.close();
    }
  });
});

test('npx maas serve from the repo root, with --flag value and the TF Serving image’s MODEL_NAME / MODEL_BASE_PATH', async () => {
  // The TF Serving image serves $MODEL_BASE_PATH/$MODEL_NAME under the name $MODEL_NAME.
  const models = makeTempDir();
  writeModelVersion(join(models, 'plus_two'), 1, addConstantModel(2));
  const server = await startThroughNpm('npx', ['--offline', 'maas', 'serve', '--port', '0', '--rest_api_port', '0', '--grpc_host', '127.0.0.1', '--metrics_port', '0'], {
    MODEL_NAME: 'plus_two',
    MODEL_BASE_PATH: models,
  });
  const clients = loadTfServingClients(`127.0.0.1:${server.grpcPort}`);
  try {
    assert.equal(server.restPort, undefined, '--rest_api_port 0 (space form) turned REST off');
    const response = await callUnary<{ outputs: { y: { tensor_content: Buffer } }; model_spec: { version: { value: string } } }>(clients.prediction, 'Predict', {
      model_spec: { name: 'plus_two' },
      inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }, { size: '2' }] }, float_val: [1, 40] } },
    }, { deadlineMs: 10_000 });
    assert.deepEqual(Array.from(new Float32Array(new Uint8Array(response.outputs.y.tensor_content).buffer)), [3, 42]);
    assert.equal(response.model_spec.version.value, '1');
  } finally {
    clients.close();
    await server.stop();
  }
});
