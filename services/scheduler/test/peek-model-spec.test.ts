import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { InvalidArgumentError } from '@maas/errors';
import { InferenceTask, ModelSpec, MultiInferenceRequest, PredictRequest, PredictRequest_InputsEntry, TensorProto } from '@maas/protos';
import { firstOf, peekModelSpec, specField } from '../src/cluster/peek-model-spec.js';

const PREDICT = '/tensorflow.serving.PredictionService/Predict';
const MULTI = '/tensorflow.serving.PredictionService/MultiInference';
const ROUNDS = 2000;

/** A seeded generator (mulberry32), so a failing case can be replayed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
  const text = (n: number) => Array.from({ length: n }, () => String.fromCharCode(32 + int(0x250))).join('');
  return { next, int, bytes, text };
}
type Random = ReturnType<typeof random>;

function randomSpec(r: Random): ModelSpec {
  return {
    name: r.text(r.int(12)),
    version: r.int(3) === 0 ? BigInt(r.int(2 ** 31)) * BigInt(r.int(8) + 1) : undefined,
    versionLabel: r.int(3) === 0 ? r.text(r.int(6)) : undefined,
    signatureName: r.int(2) ? r.text(r.int(10)) : '',
  };
}

/** Fields a decoder must skip: unknown numbers of every wire type, and model_spec's number with a wrong wire type. */
function noise(w: BinaryWriter, r: Random): void {
  const field = r.int(2) ? 1 : 1000 + r.int(30);
  switch (r.int(4)) {
    case 0:
      w.tag(field, 0).uint64(BigInt(r.int(2 ** 31)) << BigInt(r.int(30)));
      break;
    case 1:
      w.tag(field, 5).fixed32(r.int(2 ** 31));
      break;
    case 2:
      w.tag(field, 1).fixed64(BigInt(r.int(2 ** 31)));
      break;
    default:
      if (field !== 1) w.tag(field, 2).bytes(r.bytes(r.int(40)));
  }
}

function randomTensor(r: Random): TensorProto {
  return TensorProto.fromPartial({ dtype: 1, tensorShape: { dim: [{ size: 4n }] }, tensorContent: r.bytes(r.int(3) * 16) });
}

/** A PredictRequest written field by field in random order: zero to three model_specs among inputs, output filters and noise. */
function randomPredictRequest(r: Random): Uint8Array {
  const w = new BinaryWriter();
  for (let i = r.int(9); i > 0; i--) {
    switch (r.int(4)) {
      case 0:
        ModelSpec.encode(randomSpec(r), w.uint32(10).fork()).join();
        break;
      case 1:
        PredictRequest_InputsEntry.encode({ key: r.text(r.int(5)), value: randomTensor(r) }, w.uint32(18).fork()).join();
        break;
      case 2:
        w.uint32(26).string(r.text(r.int(8)));
        break;
      default:
        noise(w, r);
    }
  }
  return w.finish();
}

/** A MultiInferenceRequest with zero to three tasks, each with zero to two model_specs, and noise between. */
function randomMultiInference(r: Random): Uint8Array {
  const w = new BinaryWriter();
  for (let i = r.int(4); i > 0; i--) {
    const task = new BinaryWriter();
    for (let j = r.int(4); j > 0; j--) {
      if (r.int(2)) ModelSpec.encode(randomSpec(r), task.uint32(10).fork()).join();
      else InferenceTask.encode({ methodName: r.text(r.int(8)) }, task);
    }
    w.uint32(10).bytes(task.finish());
    if (r.int(2)) noise(w, r);
  }
  return w.finish();
}

test('peekModelSpec reads the same ModelSpec as the generated decoder the worker uses (random requests)', () => {
  const r = random(5);
  let withSpec = 0;
  let repeated = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const bytes = randomPredictRequest(r);
    const expected = PredictRequest.decode(bytes).modelSpec;
    assert.deepEqual(peekModelSpec(PREDICT, bytes, [specField(1)]), expected, `case ${i}: ${Buffer.from(bytes).toString('hex')}`);
    if (expected) withSpec++;
    if (Buffer.from(bytes).filter((b) => b === 10).length > 1) repeated++;
  }
  // The generator covers what matters: messages with and without a spec, and specs given twice.
  assert.ok(withSpec > ROUNDS / 3 && withSpec < ROUNDS, `${withSpec} of ${ROUNDS} with a spec`);
  assert.ok(repeated > ROUNDS / 10);
});

test("peekModelSpec reads MultiInference's first task's ModelSpec as the generated decoder does", () => {
  const r = random(7);
  for (let i = 0; i < ROUNDS; i++) {
    const bytes = randomMultiInference(r);
    const expected = MultiInferenceRequest.decode(bytes).tasks[0]?.modelSpec;
    assert.deepEqual(peekModelSpec(MULTI, bytes, [firstOf(1), specField(1)]), expected, `case ${i}: ${Buffer.from(bytes).toString('hex')}`);
  }
});

test('malformed bytes are INVALID_ARGUMENT naming the method, whatever is wrong with them', () => {
  const r = random(11);
  const invalid = (error: unknown) =>
    error instanceof InvalidArgumentError && error.message.startsWith(`${PREDICT}: request is not a valid protobuf message: `);
  let refused = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const valid = randomPredictRequest(r);
    const bytes = Uint8Array.from(valid);
    switch (r.int(3)) {
      case 0: // truncated
        if (valid.length === 0) continue;
        try {
          peekModelSpec(PREDICT, valid.subarray(0, r.int(valid.length)), [specField(1)]);
        } catch (error) {
          assert.ok(invalid(error), `case ${i}: ${String(error)}`);
          refused++;
        }
        continue;
      case 1: // bytes flipped
        for (let k = 1 + r.int(4); k > 0 && bytes.length > 0; k--) bytes[r.int(bytes.length)] = r.int(256);
        break;
      default: // noise
        bytes.set(r.bytes(bytes.length));
    }
    try {
      peekModelSpec(PREDICT, bytes, [specField(1)]);
    } catch (error) {
      assert.ok(invalid(error), `case ${i}: ${String(error)}`);
      refused++;
    }
  }
  assert.ok(refused > ROUNDS / 4, `only ${refused} of ${ROUNDS} refused: the mutations are too tame to test anything`);
  // The cases a reader must not get wrong: a length past the end, an illegal tag, an end-group out of place.
  for (const hex of ['0a05', '0a0512', '00', '0c', '0a02', 'ffffffffffffffffffff01', '0a03ffffff']) {
    assert.throws(() => peekModelSpec(PREDICT, Buffer.from(hex, 'hex'), [specField(1)]), invalid, hex);
  }
});

test('a request without model_spec peeks as undefined (the router answers it), not as an error', () => {
  assert.equal(peekModelSpec(PREDICT, new Uint8Array(0), [specField(1)]), undefined);
  assert.equal(peekModelSpec(PREDICT, PredictRequest.encode({ inputs: {}, outputFilter: ['y'] }).finish(), [specField(1)]), undefined);
});
