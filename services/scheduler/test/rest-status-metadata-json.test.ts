import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Any, Code, DataType, ModelVersionStatus_State, SignatureDefMap, type GetModelMetadataResponse } from '@maas/protos';
import { modelMetadataJson } from '../src/rest/metadata-json.js';
import { modelStatusJson } from '../src/rest/status-json.js';

test('model status JSON: snake_case, int64 version as a string, enum names, one-space indent', () => {
  const text = modelStatusJson({
    modelVersionStatus: [
      { version: 3n, state: ModelVersionStatus_State.AVAILABLE, status: { errorCode: Code.OK, errorMessage: '' } },
      { version: 9007199254740993n, state: ModelVersionStatus_State.END, status: { errorCode: Code.NOT_FOUND, errorMessage: 'gone' } },
      { version: 1n, state: ModelVersionStatus_State.LOADING },
    ],
  });
  assert.deepEqual(JSON.parse(text), {
    model_version_status: [
      { version: '3', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
      { version: '9007199254740993', state: 'END', status: { error_code: 'NOT_FOUND', error_message: 'gone' } },
      { version: '1', state: 'LOADING' },
    ],
  });
  assert.ok(text.startsWith('{\n "model_version_status": [\n  {\n   "version": "3",'), text);
});

test('an enum value proto3 JSON has no name for is printed as its number', () => {
  const text = modelStatusJson({ modelVersionStatus: [{ version: 1n, state: 35 as ModelVersionStatus_State, status: { errorCode: 99 as Code, errorMessage: '' } }] });
  assert.deepEqual(JSON.parse(text).model_version_status[0], { version: '1', state: 35, status: { error_code: 99, error_message: '' } });
});

function metadataResponse(): GetModelMetadataResponse {
  const map = SignatureDefMap.fromPartial({
    signatureDef: {
      serving_default: {
        inputs: { x: { name: 'x:0', dtype: DataType.DT_FLOAT, tensorShape: { dim: [{ size: -1n, name: '' }, { size: 3n, name: '' }], unknownRank: false } } },
        outputs: { y_bytes: { name: 'y', dtype: DataType.DT_STRING, tensorShape: { dim: [], unknownRank: false } } },
        methodName: 'tensorflow/serving/predict',
        defaults: {},
      },
    },
  });
  return {
    modelSpec: { name: 'm', version: 123n, signatureName: '' },
    metadata: { signature_def: Any.fromPartial({ typeUrl: 'type.googleapis.com/tensorflow.serving.SignatureDefMap', value: SignatureDefMap.encode(map).finish() }) },
  };
}

test('model metadata JSON: the doubled signature_def key, dims as strings, no @type, defaults {}', () => {
  const text = modelMetadataJson(metadataResponse());
  assert.deepEqual(JSON.parse(text), {
    model_spec: { name: 'm', signature_name: '', version: '123' },
    metadata: {
      signature_def: {
        signature_def: {
          serving_default: {
            inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '-1', name: '' }, { size: '3', name: '' }], unknown_rank: false }, name: 'x:0' } },
            outputs: { y_bytes: { dtype: 'DT_STRING', tensor_shape: { dim: [], unknown_rank: false }, name: 'y' } },
            method_name: 'tensorflow/serving/predict',
            defaults: {},
          },
        },
      },
    },
  });
  assert.ok(!text.includes('@type'));
  // Key order as TF prints it (clients diffing the text see the same layout).
  assert.ok(text.indexOf('"dtype"') < text.indexOf('"tensor_shape"') && text.indexOf('"tensor_shape"') < text.indexOf('"name": "x:0"'));
});

test('metadata without the signature_def entry is a server fault, not a client one', () => {
  assert.throws(() => modelMetadataJson({ ...metadataResponse(), metadata: {} }), /without 'signature_def' metadata/);
});
