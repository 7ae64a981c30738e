import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { ServingError } from '@maas/errors';
import { ModelServerConfig } from '@maas/protos';
import { entriesFromConfig } from '@maas/registry';

const validate = (basePath: string) => entriesFromConfig(ModelServerConfig.fromPartial({ modelConfigList: { config: [{ name: 'm', basePath }] } }));
const refusal = (code: number, message: string | RegExp) => (e: ServingError) =>
  e.code === code && (typeof message === 'string' ? e.message === message : message.test(e.message));

test('the catalogue takes absolute paths, file:// and s3:// URIs as they are written', () => {
  for (const basePath of ['/models/m', 'file:///models/m', 's3://my-bucket/models/m', 's3://my-bucket']) {
    assert.equal(validate(basePath)[0]?.basePath, basePath);
  }
});

test('relative paths, unknown schemes and malformed URIs are refused before anything loads', () => {
  assert.throws(() => validate('models/m'), refusal(status.INVALID_ARGUMENT, 'Expected model m to have an absolute path or URI; got base_path()=models/m'));
  assert.throws(() => validate('C:/models/m'), refusal(status.INVALID_ARGUMENT, /absolute path or URI/));
  assert.throws(() => validate('gs://bucket/m'), refusal(status.UNIMPLEMENTED, /^File system scheme 'gs' not implemented \(file: 'gs:\/\/bucket\/m'\); model m can use file:\/\/, s3:\/\//));
  assert.throws(() => validate('s3://Not_A_Bucket/m'), refusal(status.INVALID_ARGUMENT, /unusable base_path\(\)=s3:\/\/Not_A_Bucket\/m: "Not_A_Bucket" is not a bucket name/));
  assert.throws(() => validate('file://nas/models/m'), refusal(status.INVALID_ARGUMENT, /a file URI names a file on this machine/));
});
