import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { DataType, PredictRequest } from '@maas/protos';
import { identityModel, makeTempDir, startMaas, writeModelVersion, type ServeProcess } from '@maas/test-support';
import { RawClient, codeName, type RawOutcome } from './raw-grpc.js';

/*
 * Limits with auth off on `maas serve`: streams per connection, requests in flight per client
 * address, string bytes, REST body bytes. Batching holds each request ~500 ms so calls overlap.
 */

const PREDICT = '/tensorflow.serving.PredictionService/Predict';
const words = (...values: string[]) =>
  PredictRequest.encode(
    PredictRequest.fromPartial({
      modelSpec: { name: 'words' },
      inputs: { x: { dtype: DataType.DT_STRING, tensorShape: { dim: [{ size: 1n }, { size: BigInt(values.length) }] }, stringVal: values.map((v) => new TextEncoder().encode(v)) } },
    }),
  ).finish();
const outcome = (o: RawOutcome) => (o.ok ? 'OK' : codeName(o.code));

describe('limits on maas serve (auth off)', () => {
  const dir = makeTempDir('maas-limits-');
  let server: ServeProcess;
  let address = '';

  before(async () => {
    writeModelVersion(join(dir, 'words'), 1, identityModel('string'));
    writeFileSync(join(dir, 'batching.config'), 'max_batch_size { value: 64 }\nbatch_timeout_micros { value: 500000 }\n');
    server = await startMaas([
      'serve', '--port=0', '--grpc_host=127.0.0.1', '--rest_api_port=-1', '--model_name=words', `--model_base_path=${join(dir, 'words')}`,
      '--enable_batching', `--batching_parameters_file=${join(dir, 'batching.config')}`,
      '--max_in_flight_per_client=2', '--grpc_max_concurrent_streams=2', '--max_string_bytes=8', '--rest_api_max_body_bytes=1000', '--grpc_max_message_bytes=4096',
    ]);
    address = `127.0.0.1:${server.grpcPort}`;
  });

  after(() => server?.stop());

  test('calls beyond the streams of one connection wait in the client instead of failing', async () => {
    const client = new RawClient(address);
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => client.call(PREDICT, words('a'))));
    client.close();
    // Six calls, two at a time: the server never saw a third in flight from this address.
    assert.deepEqual(outcomes.map(outcome), Array(6).fill('OK'));
  });

  test('without auth, requests in flight are counted per client address, across its connections', async () => {
    const clients = [1, 2, 3].map(() => new RawClient(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
    const outcomes = await Promise.all(clients.map((c) => c.call(PREDICT, words('a'))));
    for (const c of clients) c.close();
    assert.deepEqual(outcomes.map(outcome).sort(), ['OK', 'OK', 'RESOURCE_EXHAUSTED']);
    assert.match(outcomes.map((o) => (o.ok ? '' : o.details)).join(''), /Client 127\.0\.0\.1 has 2 requests in flight, more than the limit of 2 \(--max_in_flight_per_client\)/);
  });

  test('a string over --max_string_bytes is refused on gRPC and REST; a body over the byte limit gets 413', async () => {
    const client = new RawClient(address);
    assert.equal(outcome(await client.call(PREDICT, words('12345678'))), 'OK');
    const long = await client.call(PREDICT, words('123456789'));
    client.close();
    assert.equal(outcome(long), 'RESOURCE_EXHAUSTED');
    assert.match(long.ok ? '' : long.details, /a string of 9 bytes, more than the limit of 8 \(--max_string_bytes\)/);
    const rest = `http://127.0.0.1:${server.restPort}/v1/models/words:predict`;
    const restLong = await fetch(rest, { method: 'POST', body: JSON.stringify({ instances: [['123456789']] }) });
    assert.equal(restLong.status, 429);
    assert.match(((await restLong.json()) as { error: string }).error, /--max_string_bytes/);
    const tooBig = await fetch(rest, { method: 'POST', body: JSON.stringify({ instances: [['a'.repeat(2000)]] }) });
    assert.equal(tooBig.status, 413);
    assert.match(((await tooBig.json()) as { error: string }).error, /exceeds the limit of 1000 bytes \(--rest_api_max_body_bytes\)/);
  });

  test('a gRPC message over --grpc_max_message_bytes is refused from its frame header, naming the flag', async () => {
    const client = new RawClient(address);
    const fits = await client.call(PREDICT, words('a'.repeat(8)));
    // 5000 bytes of nothing protobuf: refused for its size before it is read, so never decoded.
    const large = await client.call(PREDICT, new Uint8Array(5000).fill(0xff));
    const health = await client.call('/grpc.health.v1.Health/Check', new Uint8Array(5000));
    client.close();
    assert.equal(outcome(fits), 'OK');
    for (const refused of [large, health]) {
      assert.equal(outcome(refused), 'RESOURCE_EXHAUSTED');
      assert.match(refused.ok ? '' : refused.details, /larger than max \(5000 vs\.? 4096\) \(--grpc_max_message_bytes\)/);
    }
  });
});
