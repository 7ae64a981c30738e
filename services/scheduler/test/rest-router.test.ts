import assert from 'node:assert/strict';
import { test } from 'node:test';
import { routeRequest } from '../src/rest/router.js';

test('GET status and metadata URLs, with version or label, case-insensitive, query ignored', () => {
  assert.deepEqual(routeRequest('GET', '/v1/models/m'), { kind: 'status', spec: { name: 'm', signatureName: '' } });
  assert.deepEqual(routeRequest('GET', '/v1/models/m/versions/7'), { kind: 'status', spec: { name: 'm', signatureName: '', version: 7n } });
  // Status ignores labels: every version is listed.
  assert.deepEqual(routeRequest('GET', '/v1/models/m/labels/stable'), { kind: 'status', spec: { name: 'm', signatureName: '' } });
  assert.deepEqual(routeRequest('GET', '/v1/models/m/metadata'), { kind: 'metadata', spec: { name: 'm', signatureName: '' } });
  assert.deepEqual(routeRequest('GET', '/v1/models/m/versions/007/metadata?x=1'), { kind: 'metadata', spec: { name: 'm', signatureName: '', version: 7n } });
  assert.deepEqual(routeRequest('GET', '/V1/MODELS/m/LABELS/canary/METADATA'), { kind: 'metadata', spec: { name: 'm', signatureName: '', versionLabel: 'canary' } });
  assert.deepEqual(routeRequest('GET', '/v1/models/my%20model'), { kind: 'status', spec: { name: 'my model', signatureName: '' } });
});

test('POST predict, classify and regress', () => {
  assert.deepEqual(routeRequest('POST', '/v1/models/m:predict'), { kind: 'predict', spec: { name: 'm', signatureName: '' } });
  assert.deepEqual(routeRequest('POST', '/v1/models/m/versions/9223372036854775807:classify'), {
    kind: 'classify',
    spec: { name: 'm', signatureName: '', version: 9223372036854775807n },
  });
  assert.deepEqual(routeRequest('POST', '/v1/models/m/labels/a%2Bb:REGRESS?debug'), { kind: 'regress', spec: { name: 'm', signatureName: '', versionLabel: 'a+b' } });
});

test('everything else under /v1 is malformed; GET /v1/models lacks a name; outside /v1 is not found', () => {
  const malformed = (method: string, url: string) => assert.deepEqual(routeRequest(method, url), { kind: 'malformed', message: `Malformed request: ${method} ${url.split('?')[0]}` }, `${method} ${url}`);
  malformed('GET', '/v1/models/m/versions/x');
  malformed('GET', '/v1/models/m/versions/');
  malformed('GET', '/v1/models/m/other');
  malformed('GET', '/v1/models/m:predict');
  malformed('POST', '/v1/models/m');
  malformed('POST', '/v1/models/m:explain');
  malformed('POST', '/v1/models/m/versions/1/labels/x:predict');
  malformed('POST', '/v1/models/m/versions/9223372036854775808:predict');
  malformed('POST', '/v1/models/%E0%A4%A:predict');
  malformed('PUT', '/v1/models/m');
  malformed('DELETE', '/v1/models/m?x=1');
  malformed('GET', '/v1/other');
  assert.deepEqual(routeRequest('GET', '/v1/models'), { kind: 'malformed', message: 'Missing model name in request.' });
  assert.deepEqual(routeRequest('GET', '/v1/models/versions/3'), { kind: 'malformed', message: 'Missing model name in request.' });
  assert.deepEqual(routeRequest('OPTIONS', '/v1/models/m'), { kind: 'preflight' });
  for (const url of ['/', '/v1', '/v2/models/m', '/monitoring/prometheus/metrics', '/models/m']) assert.deepEqual(routeRequest('GET', url), { kind: 'not-found' });
});
