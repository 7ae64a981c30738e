import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { basePathProblem, childLocation, parentLocation, parseS3Location, uriScheme } from '../src/location.js';

test('a URI is a scheme followed by ://, as TF Serving parses it; anything else is a path', () => {
  assert.equal(uriScheme('s3://bucket/m'), 's3');
  assert.equal(uriScheme('FILE:///models/m'), 'file');
  assert.equal(uriScheme('gs://bucket/m'), 'gs');
  for (const path of ['/models/m', 'models/m', 'E:/models/m', 'foo:bar', 's3:/bucket', '://x']) assert.equal(uriScheme(path), undefined, path);
});

test('base paths: absolute paths and file:// or s3:// URIs are accepted, with reasons for the rest', () => {
  for (const ok of ['/models/m', 'file:///models/m', 'file://localhost/models/m', 's3://my-bucket/models/m', 's3://my.bucket', 's3://abc/']) {
    assert.equal(basePathProblem(ok), undefined, ok);
  }
  assert.deepEqual(basePathProblem('models/m'), { kind: 'relative' });
  assert.deepEqual(basePathProblem('E:/models/m'), { kind: 'relative' });
  assert.deepEqual(basePathProblem('gs://bucket/m'), { kind: 'unsupported-scheme', scheme: 'gs' });
  assert.equal(basePathProblem('s3://Bad_Bucket/m')?.kind, 'malformed');
  assert.equal(basePathProblem('s3:///m')?.kind, 'malformed');
  assert.equal(basePathProblem('file://fileserver/models/m')?.kind, 'malformed');
});

test('s3 locations split into bucket and key, taken literally', () => {
  assert.deepEqual(parseS3Location('s3://b-1/models/m/'), { bucket: 'b-1', key: 'models/m' });
  assert.deepEqual(parseS3Location('s3://b-1'), { bucket: 'b-1', key: '' });
  assert.deepEqual(parseS3Location('s3://b-1/my%20model'), { bucket: 'b-1', key: 'my%20model' });
  assert.throws(() => parseS3Location('/models/m'), /not an s3:\/\/ URI/);
});

test('child and parent locations keep the form they were given in', () => {
  assert.equal(childLocation('/models/m', '3'), '/models/m/3');
  assert.equal(childLocation('s3://b/models/m', '3'), 's3://b/models/m/3');
  assert.equal(childLocation('s3://b/models/m/', '3'), 's3://b/models/m/3');
  assert.equal(childLocation('file:///models/m', 'runtime.json'), 'file:///models/m/runtime.json');
  assert.equal(parentLocation('s3://b/models/m/3/model.onnx'), 's3://b/models/m/3');
  assert.equal(parentLocation('file:///m'), 'file:///');
  assert.equal(parentLocation('s3://b'), 's3://b');
  assert.equal(parentLocation('/models/m/3/model.onnx'), '/models/m/3');
  const segment = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/).filter((s) => s !== '.' && s !== '..');
  fc.assert(
    fc.property(fc.constantFrom('/models', 's3://bucket', 's3://bucket/deep/er', 'file:///srv/models'), segment, (dir, name) => {
      assert.equal(parentLocation(childLocation(dir, name)), dir);
    }),
  );
});
