import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { addConstantModel, loadTfServingClients, makeTempDir, startMaas, writeModelVersion, type ServeProcess } from '@maas/test-support';
import { clientTraceparent, InMemoryOtlpReceiver } from './observability-helpers.js';

/** A value no log line may show: it is only ever inside request tensors. */
const TENSOR_VALUE = 98765.4375;
const SECRET = 'tok-SECRET-4711';

function predict(clients: ReturnType<typeof loadTfServingClients>, metadata: grpc.Metadata): Promise<unknown> {
  const request = {
    model_spec: { name: 'adder' },
    inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }, { size: '1' }] }, float_val: [TENSOR_VALUE] } },
  };
  const client = clients.prediction as unknown as Record<string, Function>;
  return new Promise((resolve, reject) =>
    client.Predict!.call(clients.prediction, request, metadata, { deadline: Date.now() + 10_000 }, (error: Error | null, response: unknown) =>
      error ? reject(error) : resolve(response),
    ),
  );
}

/** Serves adder, sends one traced gRPC Predict carrying a secret and one REST predict; returns the parsed log. */
async function servedLog(env: NodeJS.ProcessEnv) {
  const dir = makeTempDir();
  writeModelVersion(join(dir, 'adder'), 1, addConstantModel(1));
  const server: ServeProcess = await startMaas(['serve', '--port=0', '--rest_api_port=-1', '--metrics_port=0', '--model_name=adder', `--model_base_path=${join(dir, 'adder')}`], { env });
  const clients = loadTfServingClients(`127.0.0.1:${server.grpcPort}`);
  const caller = clientTraceparent();
  try {
    const metadata = new grpc.Metadata();
    metadata.set('traceparent', caller.traceparent);
    metadata.set('authorization', `Bearer ${SECRET}`);
    await predict(clients, metadata);
    const response = await fetch(`http://127.0.0.1:${server.restPort}/v1/models/adder:predict`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SECRET}`, 'x-api-key': SECRET },
      body: JSON.stringify({ instances: [[TENSOR_VALUE]] }),
    });
    assert.equal(response.status, 200);
  } finally {
    clients.close();
    await server.stop();
  }
  const text = server.log();
  return { text, events: text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>), caller };
}

describe('the log of a serving process', () => {
  const receiver = new InMemoryOtlpReceiver();
  before(() => receiver.start());
  after(() => receiver.stop());

  test('MAAS_LOG_LEVEL=debug: one JSON line per call with its trace id, model, version and status; no tensor values, no credentials', async () => {
    const { text, events, caller } = await servedLog({ ...receiver.otelEnv(), MAAS_LOG_LEVEL: 'debug' });
    const grpcCall = events.find((e) => e.level === 'debug' && e.method === 'Predict' && e.entrypoint === 'grpc');
    assert.ok(grpcCall, text);
    assert.deepEqual(
      { trace_id: grpcCall.trace_id, model: grpcCall.model, version: grpcCall.version, status: grpcCall.status, role: grpcCall.role },
      { trace_id: caller.traceId, model: 'adder', version: 1, status: 'OK', role: 'serve' },
    );
    assert.match(String(grpcCall.msg), /^tensorflow\.serving\.PredictionService\/Predict OK in \d+\.\d ms$/);
    const restCall = events.find((e) => e.level === 'debug' && e.method === 'Predict' && e.entrypoint === 'rest');
    assert.ok(restCall, text);
    for (const forbidden of [String(TENSOR_VALUE), '98765', SECRET]) assert.ok(!text.includes(forbidden), `the log shows ${forbidden}:\n${text}`);
  });

  test('the default level (info) writes no line per call', async () => {
    const { text, events } = await servedLog({ MAAS_LOG_LEVEL: '' });
    assert.ok(events.some((e) => e.level === 'info' && e.model === 'adder' && e.version === 1), text);
    assert.deepEqual(events.filter((e) => e.level === 'debug' || e.method !== undefined), [], text);
  });
});
