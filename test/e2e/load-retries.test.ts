import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { addConstantModel, callUnary, loadTfServingClients, makeTempDir, startMaas, waitFor, writeModelVersion, type ServeProcess } from '@maas/test-support';

/*
 * --max_num_load_retries / --load_retry_interval_micros: a version that fails to load stays LOADING
 * and is tried again (a transient fault heals), then is reported failed once the retries are spent;
 * the version already serving keeps answering throughout.
 */

type StatusResponse = { model_version_status: Array<{ version: string; state: string; status: { error_message: string } }> };
type PredictResponse = { model_spec: { version: { value: string } } };

const input = { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }, { size: '1' }] }, float_val: [1] };

/** Version `version` of the model whose model.onnx is not an ONNX file. */
function writeBrokenVersion(basePath: string, version: number): string {
  const staging = join(makeTempDir(), String(version));
  writeModelVersion(join(staging, '..'), version, Buffer.from('not an onnx model'));
  renameSync(staging, join(basePath, String(version)));
  return join(basePath, String(version), 'model.onnx');
}

describe('load retries', () => {
  const servers: ServeProcess[] = [];
  after(() => Promise.all(servers.map((s) => s.stop())));

  const serve = async (retryFlags: string[]) => {
    const basePath = join(makeTempDir('maas-retries-'), 'adder');
    writeModelVersion(basePath, 1, addConstantModel(1));
    const server = await startMaas(['serve', '--port=0', '--rest_api_port=0', '--grpc_host=127.0.0.1', '--model_name=adder', `--model_base_path=${basePath}`, '--file_system_poll_wait_seconds=1', ...retryFlags]);
    servers.push(server);
    const clients = loadTfServingClients(`127.0.0.1:${server.grpcPort}`);
    const status = async (version: string) =>
      (await callUnary<StatusResponse>(clients.model, 'GetModelStatus', { model_spec: { name: 'adder' } })).model_version_status.find((s) => s.version === version);
    const servedVersion = async () => (await callUnary<PredictResponse>(clients.prediction, 'Predict', { model_spec: { name: 'adder' }, inputs: { x: input } })).model_spec.version.value;
    return { basePath, server, status, servedVersion, close: () => clients.close() };
  };

  test('a version fixed before its next retry loads; the old one serves meanwhile', async () => {
    const node = await serve(['--max_num_load_retries=5', '--load_retry_interval_micros=1500000']);
    const file = writeBrokenVersion(node.basePath, 2);
    await waitFor('a first failed attempt', async () => /failed to load adder:2 .*retry 1 of 5 in 1500 ms/.test(node.server.log()));
    assert.equal((await node.status('2'))?.state, 'LOADING');
    assert.equal(await node.servedVersion(), '1');
    writeFileSync(`${file}.tmp`, addConstantModel(2));
    renameSync(`${file}.tmp`, file);
    await waitFor('version 2 to load on a retry', async () => (await node.status('2'))?.state === 'AVAILABLE');
    assert.equal(await node.servedVersion(), '2');
    node.close();
  });

  test('once the retries are spent the version ends with its error', async () => {
    const node = await serve(['--max_num_load_retries=1', '--load_retry_interval_micros=200000']);
    writeBrokenVersion(node.basePath, 2);
    await waitFor('version 2 to fail', async () => (await node.status('2'))?.state === 'END');
    assert.notEqual((await node.status('2'))!.status.error_message, '');
    assert.match(node.server.log(), /retry 1 of 1 in 200 ms/);
    assert.doesNotMatch(node.server.log(), /retry 2 of/);
    assert.equal(await node.servedVersion(), '1');
    node.close();
  });

  test('a negative retry count is refused at start-up, naming the flag', async () => {
    await assert.rejects(startMaas(['serve', '--port=0', '--model_name=adder', `--model_base_path=${makeTempDir()}`, '--max_num_load_retries=-1']), /--max_num_load_retries must be >= 0/);
  });
});
