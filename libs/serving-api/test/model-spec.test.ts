import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeServableRequest, servableRequestFrom } from '../src/index.js';

test('model_spec resolution follows TF Serving', () => {
  assert.throws(() => servableRequestFrom(undefined), /^InvalidArgumentError: Missing ModelSpec$/);
  assert.throws(() => servableRequestFrom({ name: '', signatureName: '' }), /ModelSpec has no name specified\./);
  assert.deepEqual(servableRequestFrom({ name: 'm', signatureName: '' }), { name: 'm', choice: { kind: 'latest' }, signatureName: 'serving_default' });
  assert.deepEqual(servableRequestFrom({ name: 'm', version: 0n, signatureName: 's' }).choice, { kind: 'specific', version: 0 });
  assert.deepEqual(servableRequestFrom({ name: 'm', versionLabel: 'stable', signatureName: '' }).choice, { kind: 'label', label: 'stable' });
});

test('servable requests render as TF Serving names them', () => {
  assert.equal(describeServableRequest({ name: 'm', choice: { kind: 'latest' } }), 'Latest(m)');
  assert.equal(describeServableRequest({ name: 'm', choice: { kind: 'specific', version: 3 } }), 'Specific(m, 3)');
});
