import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { credentials, status } from '@grpc/grpc-js';
import { DataType, PredictRequest } from '@maas/protos';
import { addConstantModel, makeTempDir, startMaas, writeModelVersion, type ServeProcess } from '@maas/test-support';
import { replaceFile, runMaasBatch, sslConfigText, TestCa, type Certificate } from './fixtures.js';
import { RawClient, codeName, type RawOutcome } from './raw-grpc.js';

/*
 * TLS on `maas serve` from TF Serving's --ssl_config_file: server TLS, then mTLS (client_verify),
 * and certificates rotated under load by replacing the file.
 */

const PREDICT = '/tensorflow.serving.PredictionService/Predict';
const predictBytes = PredictRequest.encode(
  PredictRequest.fromPartial({ modelSpec: { name: 'adder' }, inputs: { x: { dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: 1n }, { size: 1n }] }, floatVal: [1] } } }),
).finish();
const outcome = (o: RawOutcome) => (o.ok ? 'OK' : codeName(o.code));

function tlsClient(port: number, ca: string, identity?: Certificate): RawClient {
  const creds = credentials.createSsl(Buffer.from(ca), identity && Buffer.from(identity.key), identity && Buffer.from(identity.cert));
  return new RawClient(`127.0.0.1:${port}`, creds);
}

/** The serial number of the certificate the server presents on a new connection. */
function presentedSerial(port: number, ca: string, protocol = 'h2'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, ALPNProtocols: [protocol] }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.once('error', reject);
  });
}

function restGet(port: number, path: string, ca: string, identity?: Certificate): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, ca, key: identity?.key, cert: identity?.cert, agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

const serialOf = (pem: string) => new X509Certificate(pem).serialNumber;

async function startServe(dir: string, sslConfig: string): Promise<ServeProcess> {
  return startMaas(['serve', '--port=0', '--grpc_host=127.0.0.1', '--rest_api_port=-1', '--model_name=adder', `--model_base_path=${join(dir, 'adder')}`, `--ssl_config_file=${sslConfig}`, '--ssl_config_poll_seconds=1']);
}

describe('TLS from --ssl_config_file', () => {
  const dir = makeTempDir('maas-tls-');
  const ca = new TestCa(dir);
  const sslConfig = join(dir, 'ssl.config');
  let server: ServeProcess;

  before(async () => {
    writeModelVersion(join(dir, 'adder'), 1, addConstantModel(1));
    replaceFile(sslConfig, sslConfigText(ca.issue('server'), undefined, false));
    server = await startServe(dir, sslConfig);
  });

  after(() => server?.stop());

  test('gRPC and REST speak TLS with the configured certificate; plaintext clients get nothing', async () => {
    const secure = tlsClient(server.grpcPort, ca.ca.cert);
    assert.equal(outcome(await secure.call(PREDICT, predictBytes)), 'OK');
    secure.close();
    const plain = new RawClient(`127.0.0.1:${server.grpcPort}`);
    const refused = await plain.call(PREDICT, predictBytes, { deadlineMs: 3000 });
    plain.close();
    assert.ok(!refused.ok && (refused.code === status.UNAVAILABLE || refused.code === status.DEADLINE_EXCEEDED), outcome(refused));
    const rest = await restGet(server.restPort!, '/v1/models/adder', ca.ca.cert);
    assert.equal(rest.status, 200);
    assert.match(rest.body, /AVAILABLE/);
    const other = new TestCa(dir, 'untrusted-ca');
    await assert.rejects(restGet(server.restPort!, '/v1/models/adder', other.ca.cert), /self[- ]signed|unable to verify|certificate/i);
  });

  test('rotating the certificate under load drops nothing; new connections get the new one; a bad file is ignored', async () => {
    const before = await presentedSerial(server.grpcPort, ca.ca.cert);
    const client = tlsClient(server.grpcPort, ca.ca.cert);
    let stop = false;
    const outcomes = new Map<string, number>();
    const load = (async () => {
      while (!stop) {
        const result = outcome(await client.call(PREDICT, predictBytes));
        outcomes.set(result, (outcomes.get(result) ?? 0) + 1);
      }
    })();
    const next = ca.issue('server-rotated');
    replaceFile(sslConfig, sslConfigText(next, undefined, false));
    const deadline = Date.now() + 10_000;
    while ((await presentedSerial(server.grpcPort, ca.ca.cert)) !== serialOf(next.cert) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.notEqual(serialOf(next.cert), before);
    assert.equal(await presentedSerial(server.grpcPort, ca.ca.cert), serialOf(next.cert), 'new connections present the new certificate');
    assert.equal(await presentedSerial(server.restPort!, ca.ca.cert, 'http/1.1'), serialOf(next.cert), 'so does REST');
    // A half-made rotation (key of one certificate, certificate of another) changes nothing.
    replaceFile(sslConfig, sslConfigText({ key: ca.issue('stray').key, cert: next.cert }, undefined, false));
    const logged = Date.now() + 10_000;
    while (!/cannot be used, keeping the previous certificates/.test(server.log()) && Date.now() < logged) await new Promise((r) => setTimeout(r, 200));
    assert.match(server.log(), /cannot be used, keeping the previous certificates/);
    assert.equal(await presentedSerial(server.grpcPort, ca.ca.cert), serialOf(next.cert));
    stop = true;
    await load;
    client.close();
    assert.deepEqual([...outcomes.keys()], ['OK'], JSON.stringify(Object.fromEntries(outcomes)));
    assert.ok(outcomes.get('OK')! > 10);
  });
});

describe('mTLS: client_verify', () => {
  const dir = makeTempDir('maas-mtls-');
  const ca = new TestCa(dir);
  let server: ServeProcess;

  before(async () => {
    writeModelVersion(join(dir, 'adder'), 1, addConstantModel(1));
    const sslConfig = join(dir, 'ssl.config');
    replaceFile(sslConfig, sslConfigText(ca.issue('server'), ca.ca.cert, true));
    server = await startServe(dir, sslConfig);
  });

  after(() => server?.stop());

  test('only clients with a certificate from custom_ca get through', async () => {
    const withCert = tlsClient(server.grpcPort, ca.ca.cert, ca.issue('client'));
    assert.equal(outcome(await withCert.call(PREDICT, predictBytes)), 'OK');
    withCert.close();
    const foreign = new TestCa(dir, 'foreign-ca');
    for (const identity of [undefined, foreign.issue('intruder')]) {
      const client = tlsClient(server.grpcPort, ca.ca.cert, identity);
      const refused = await client.call(PREDICT, predictBytes, { deadlineMs: 3000 });
      client.close();
      assert.ok(!refused.ok && (refused.code === status.UNAVAILABLE || refused.code === status.DEADLINE_EXCEEDED), outcome(refused));
    }
    assert.equal((await restGet(server.restPort!, '/v1/models/adder', ca.ca.cert, ca.issue('rest-client'))).status, 200);
    await assert.rejects(restGet(server.restPort!, '/v1/models/adder', ca.ca.cert));
  });

  test('maas batch speaks TLS with --ssl_ca_file and presents --ssl_cert_file/--ssl_key_file', async () => {
    const caFile = join(dir, 'batch-ca.pem');
    const identity = ca.issue('batch-client');
    const [certFile, keyFile] = [join(dir, 'batch-client.crt'), join(dir, 'batch-client.key')];
    replaceFile(caFile, ca.ca.cert);
    replaceFile(certFile, identity.cert);
    replaceFile(keyFile, identity.key);
    const target = `--scheduler=127.0.0.1:${server.grpcPort}`;
    // maas serve has no BatchJobs service: an UNIMPLEMENTED answer means the handshake and the client certificate got through.
    const withCert = await runMaasBatch(['list', target, `--ssl_ca_file=${caFile}`, `--ssl_cert_file=${certFile}`, `--ssl_key_file=${keyFile}`]);
    assert.notEqual(withCert.code, 0);
    assert.match(withCert.output, /does not implement the method \/maas.batch.v1.BatchJobs\/List/);
    const withoutCert = await runMaasBatch(['list', target, `--ssl_ca_file=${caFile}`]);
    assert.notEqual(withoutCert.code, 0);
    assert.doesNotMatch(withoutCert.output, /does not implement/);
    const half = await runMaasBatch(['list', target, `--ssl_cert_file=${certFile}`]);
    assert.match(half.output, /give --ssl_cert_file and --ssl_key_file together/);
  });
});
