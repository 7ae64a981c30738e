import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClassificationRequest, GetModelMetadataRequest, PredictRequest, TensorProto } from '@maas/protos';
import { pinLabelledVersion } from '../src/cluster/forwarding-services.js';
import { firstOf, peekModelSpec, specField } from '../src/cluster/peek-model-spec.js';

const PREDICT = '/tensorflow.serving.PredictionService/Predict';
const labels: Record<string, number> = { stable: 3 };
const versionOf = (name: string, label: string) => (name === 'm' ? labels[label] : undefined);

test('a labelled request goes on pinned to the version the scheduler routed it to; inputs untouched', () => {
  const input = TensorProto.fromPartial({ dtype: 1, floatVal: [1, 2, 3] });
  const request = Buffer.from(PredictRequest.encode(PredictRequest.fromPartial({ modelSpec: { name: 'm', versionLabel: 'stable', signatureName: 'sig' }, inputs: { x: input } })).finish());
  const spec = peekModelSpec(PREDICT, request, [specField(1)]);
  const pinned = pinLabelledVersion(request, spec, [specField(1)], versionOf);
  // What a worker decodes (ts-proto keeps the last model_spec) and what the scheduler's peek reads agree.
  const decoded = PredictRequest.decode(pinned);
  assert.deepEqual(decoded.modelSpec, { name: 'm', version: 3n, versionLabel: undefined, signatureName: 'sig' });
  assert.deepEqual(decoded.inputs.x, input);
  assert.equal(peekModelSpec(PREDICT, pinned, [specField(1)])?.version, 3n);
  // model_spec is field 1 of every top-level request, so the same bytes pin Classify and GetModelMetadata.
  assert.equal(ClassificationRequest.decode(pinLabelledVersion(Buffer.from(ClassificationRequest.encode(ClassificationRequest.fromPartial({ modelSpec: { name: 'm', versionLabel: 'stable' } })).finish()), { name: 'm', versionLabel: 'stable', signatureName: '' }, [specField(1)], versionOf)).modelSpec?.version, 3n);
  assert.equal(GetModelMetadataRequest.decode(pinLabelledVersion(Buffer.alloc(0), { name: 'm', versionLabel: 'stable', signatureName: '' }, [specField(1)], versionOf)).modelSpec?.version, 3n);
});

test('requests without a label, with an unknown label, or with nested specs go on as they came', () => {
  const request = Buffer.from([1, 2, 3]);
  assert.equal(pinLabelledVersion(request, { name: 'm', version: 2n, signatureName: '' }, [specField(1)], versionOf), request);
  assert.equal(pinLabelledVersion(request, { name: 'm', versionLabel: 'canary', signatureName: '' }, [specField(1)], versionOf), request);
  assert.equal(pinLabelledVersion(request, { name: 'm', versionLabel: 'stable', signatureName: '' }, [firstOf(1), specField(1)], versionOf), request);
  assert.equal(pinLabelledVersion(request, undefined, [specField(1)], versionOf), request);
});
