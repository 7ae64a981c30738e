import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { PermissionDeniedError, UnauthenticatedError } from '@maas/errors';
import {
  ALL_MODELS,
  AuthConfigError,
  Authenticator,
  allows,
  authorize,
  modelsNamed,
  parseAuthConfig,
  requirementFor,
  sha256Hex,
  type Permission,
  type Requirement,
} from '../src/index.js';
import { PredictRequest, MultiInferenceRequest } from '@maas/protos';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';

const config = parseAuthConfig(
  JSON.stringify({
    api_keys: [
      { name: 'reader', key: 'reader-key', roles: { adder: ['predict', 'read_metadata'] } },
      { name: 'ops', key_sha256: sha256Hex('ops-key'), roles: { '*': ['administer'] } },
    ],
    jwt: { issuer: 'https://issuer.test', audience: 'maas', secret: SECRET },
    service_key: 'service-key',
  }),
);

const unauthenticated = (error: unknown) => error instanceof UnauthenticatedError && error.code === status.UNAUTHENTICATED;

async function token(claims: Record<string, unknown>, options: { exp?: string; audience?: string; secret?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('https://issuer.test')
    .setAudience(options.audience ?? 'maas')
    .setSubject('carol')
    .setExpirationTime(options.exp ?? '5m')
    .sign(new TextEncoder().encode(options.secret ?? SECRET));
}

test('API keys authenticate by their SHA-256; missing, malformed and unknown credentials are UNAUTHENTICATED', async () => {
  const auth = new Authenticator(config);
  assert.equal((await auth.authenticate('Bearer reader-key')).id, 'reader');
  assert.equal((await auth.authenticate('bearer ops-key')).id, 'ops');
  assert.equal((await auth.authenticate('Bearer service-key')).id, 'service');
  for (const header of [undefined, '', 'reader-key', 'Basic cmVhZGVyOmtleQ==', 'Bearer wrong-key', 'Bearer a.b.c']) {
    await assert.rejects(auth.authenticate(header), unauthenticated, String(header));
  }
});

test('JWTs verify signature, issuer, audience and expiry; their roles claim gives the grants', async () => {
  const auth = new Authenticator(config);
  const principal = await auth.authenticate(`Bearer ${await token({ maas_roles: { adder: ['predict'] } })}`);
  assert.equal(principal.id, 'jwt:carol');
  assert.ok(allows(principal.grants, 'predict', 'adder'));
  assert.ok(!allows(principal.grants, 'read_metadata', 'adder'));
  assert.ok(!allows(principal.grants, 'predict', 'other'));
  await assert.rejects(auth.authenticate(`Bearer ${await token({}, { exp: '-1m' })}`), (e: Error) => unauthenticated(e) && /exp/.test(e.message));
  await assert.rejects(auth.authenticate(`Bearer ${await token({}, { audience: 'someone-else' })}`), (e: Error) => unauthenticated(e) && /aud/.test(e.message));
  await assert.rejects(auth.authenticate(`Bearer ${await token({}, { secret: 'another-secret-of-at-least-32-bytes!' })}`), unauthenticated);
  await assert.rejects(auth.authenticate(`Bearer ${await token({ maas_roles: { adder: ['fly'] } })}`), unauthenticated);
  // An unsigned token (alg none) granting everything, and a valid one whose signature was cut off.
  const part = (json: object) => Buffer.from(JSON.stringify(json)).toString('base64url');
  const unsigned = `${part({ alg: 'none', typ: 'JWT' })}.${part({ iss: 'https://issuer.test', aud: 'maas', sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 300, maas_roles: { '*': ['administer'] } })}.`;
  await assert.rejects(auth.authenticate(`Bearer ${unsigned}`), unauthenticated);
  const valid = await token({ maas_roles: { '*': ['administer'] } });
  await assert.rejects(auth.authenticate(`Bearer ${valid.slice(0, valid.lastIndexOf('.') + 1)}`), unauthenticated);
});

test('JWTs verify against a JWKS file (RS256)', async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const dir = mkdtempSync(join(tmpdir(), 'maas-jwks-'));
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] }));
  const auth = new Authenticator(parseAuthConfig(JSON.stringify({ jwt: { jwks_file: jwksFile, audience: 'maas' } })));
  const signed = await new SignJWT({ maas_roles: { '*': ['read_metadata'] } }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setAudience('maas').setSubject('dave').setExpirationTime('1m').sign(privateKey);
  const principal = await auth.authenticate(`Bearer ${signed}`);
  assert.equal(principal.id, 'jwt:dave');
  assert.ok(allows(principal.grants, 'read_metadata', 'anything'));
  assert.ok(!allows(principal.grants, 'predict', 'anything'));
});

test('config mistakes are refused with the field named', () => {
  const bad: Array<[unknown, RegExp]> = [
    [{}, /accepts no credentials/],
    [{ api_keys: [{ name: 'x', roles: {} }] }, /key or key_sha256 is required/],
    [{ api_keys: [{ name: 'x', key: 'k', roles: { m: ['write'] } }] }, /unknown permission "write"/],
    [{ api_keys: [{ name: 'x', key_sha256: 'abc', roles: {} }] }, /64 hex digits/],
    [{ jwt: { secret: 's', jwks_url: 'https://x' } }, /exactly one of/],
    [{ api_key: [] }, /unknown field api_key/],
    [{ api_keys: [{ name: 'service', key: 'k', roles: {} }] }, /api_keys\[0\]\.name: "service" is reserved/],
    [{ api_keys: [{ name: 'jwt:ci', key: 'k', roles: {} }] }, /"jwt:ci" is reserved/],
  ];
  for (const [json, message] of bad) assert.throws(() => parseAuthConfig(JSON.stringify(json)), (e: Error) => e instanceof AuthConfigError && message.test(e.message));
  assert.throws(() => parseAuthConfig('{'), AuthConfigError);
});

test('administer includes the other permissions; "*" covers every model', () => {
  const grants = new Map<string, Set<Permission>>([['a', new Set(['administer'])], [ALL_MODELS, new Set(['read_metadata'])]]);
  assert.ok(allows(grants, 'predict', 'a') && allows(grants, 'read_metadata', 'a'));
  assert.ok(allows(grants, 'read_metadata', 'zzz'));
  assert.ok(!allows(grants, 'predict', 'zzz'));
  assert.ok(!allows(grants, 'administer', ALL_MODELS));
});

test('a forbidden model and an unknown one are refused with the same words; cluster-wide calls need "*"', async () => {
  const reader = await new Authenticator(config).authenticate('Bearer reader-key');
  const predict = requirementFor('/tensorflow.serving.PredictionService/Predict');
  const refusal = (model: string) => {
    try {
      authorize(reader, predict, [model]);
      return undefined;
    } catch (error) {
      assert.ok(error instanceof PermissionDeniedError);
      return error.message.replace(model, '<model>');
    }
  };
  assert.equal(refusal('adder'), undefined);
  assert.equal(refusal('exists-but-not-yours'), refusal('does-not-exist'));
  assert.throws(() => authorize(reader, requirementFor('/tensorflow.serving.ModelService/HandleReloadConfigRequest'), undefined), PermissionDeniedError);
  assert.throws(() => authorize(reader, requirementFor('/maas.some.NewService/Anything'), undefined), PermissionDeniedError);
  assert.doesNotThrow(() => authorize(reader, requirementFor('/grpc.health.v1.Health/Check'), undefined));
});

test('model names are read from encoded and decoded requests alike, every task of a MultiInference', () => {
  const predict = requirementFor('/tensorflow.serving.PredictionService/Predict') as Extract<Requirement, { kind: 'model' }>;
  const request = PredictRequest.fromPartial({ modelSpec: { name: 'adder' } });
  assert.deepEqual(modelsNamed(Buffer.from(PredictRequest.encode(request).finish()), predict), ['adder']);
  assert.deepEqual(modelsNamed(request, predict), ['adder']);
  assert.deepEqual(modelsNamed(PredictRequest.fromPartial({}), predict), ['']);
  assert.equal(modelsNamed(Buffer.from([0xff, 0xff]), predict), undefined);
  const multi = requirementFor('/tensorflow.serving.PredictionService/MultiInference') as Extract<Requirement, { kind: 'model' }>;
  const tasks = MultiInferenceRequest.fromPartial({ tasks: [{ modelSpec: { name: 'a' } }, { modelSpec: { name: 'b' } }] });
  assert.deepEqual(modelsNamed(Buffer.from(MultiInferenceRequest.encode(tasks).finish()), multi), ['a', 'b']);
  assert.deepEqual(modelsNamed(tasks, multi), ['a', 'b']);
});
