import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { afterEach, test } from 'node:test';
import { modelConfigFrom } from '../../services/cli/src/common-flags.js';

const basePathOf = async (flags: Record<string, string>) => (await modelConfigFrom(flags))?.config.modelConfigList?.config[0]?.basePath;
const saved = { MODEL_BASE_PATH: process.env.MODEL_BASE_PATH, MODEL_NAME: process.env.MODEL_NAME };

afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

test('--model_base_path: a URI is kept as written, a path is made absolute', async () => {
  assert.equal(await basePathOf({ model_base_path: 's3://bucket/models/m' }), 's3://bucket/models/m');
  assert.equal(await basePathOf({ model_base_path: 'file:///models/my%20m' }), 'file:///models/my%20m');
  assert.equal(await basePathOf({ model_base_path: 'models/m' }), resolve('models/m'));
});

test('MODEL_BASE_PATH/MODEL_NAME, as in the TF Serving image, join a URI without mangling it', async () => {
  process.env.MODEL_BASE_PATH = 's3://bucket/models';
  process.env.MODEL_NAME = 'm';
  assert.equal(await basePathOf({}), 's3://bucket/models/m');
  process.env.MODEL_BASE_PATH = '/models';
  assert.equal(await basePathOf({}), '/models/m');
});
