import fc from 'fast-check';
import { DataType, type ModelSpec, type PredictRequest, type TensorProto } from '@maas/protos';

/*
 * Generators of hostile inputs: mostly-plausible values with the edges mixed in (negative and
 * huge dims, dtypes outside the enum, short or odd-sized tensor_content, malformed strings).
 */

const dtype = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...(Object.values(DataType).filter((v) => typeof v === 'number') as DataType[])) },
  { weight: 1, arbitrary: fc.integer({ min: -3, max: 300 }) as fc.Arbitrary<DataType> },
);

const dim = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 4 }).map(BigInt) },
  { weight: 1, arbitrary: fc.constantFrom(-1n, -2n, 2n ** 31n, 2n ** 40n, 2n ** 63n - 1n, -(2n ** 63n)) },
);

const small = <T>(values: fc.Arbitrary<T>) => fc.array(values, { maxLength: 12 });
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });

export const tensorProto: fc.Arbitrary<TensorProto> = fc.record({
  dtype,
  tensorShape: fc.option(fc.record({ dim: fc.array(fc.record({ size: dim, name: fc.constantFrom('', 'batch') }), { maxLength: 4 }), unknownRank: fc.boolean() }), { nil: undefined }),
  versionNumber: fc.constant(0),
  tensorContent: fc.oneof({ weight: 3, arbitrary: fc.constant(new Uint8Array()) }, { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }) }),
  halfVal: small(fc.integer({ min: -1, max: 0x1ffff })),
  floatVal: small(fc.float()),
  doubleVal: small(fc.double()),
  intVal: small(fc.integer()),
  stringVal: small(fc.uint8Array({ maxLength: 16 })),
  scomplexVal: small(fc.float()),
  int64Val: small(int64),
  boolVal: small(fc.boolean()),
  dcomplexVal: small(fc.double()),
  resourceHandleVal: fc.constant([]),
  variantVal: fc.constant([]),
  uint32Val: small(fc.nat()),
  uint64Val: small(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
  float8Val: fc.uint8Array({ maxLength: 8 }),
});

const name = (known: readonly string[]) => fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) });

/** Mostly `usual`, sometimes anything `unusual` generates. */
const mostly = <T>(usual: fc.Arbitrary<T>, unusual: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: usual }, { weight: 1, arbitrary: unusual });

export function modelSpec(models: readonly string[]): fc.Arbitrary<ModelSpec> {
  return fc.record({
    name: mostly(fc.constantFrom(...models), fc.constantFrom('', 'missing')),
    version: mostly(fc.constant(undefined), fc.oneof(fc.bigInt({ min: -1n, max: 3n }), int64)),
    versionLabel: mostly(fc.constant(undefined), fc.constantFrom('stable', 'canary', '')),
    signatureName: mostly(fc.constantFrom('', 'serving_default'), fc.constantFrom('predict', 'tensorflow/serving/predict', 'x')),
  });
}

/** What a model takes: its input aliases, each with its dtype and the columns of its [batch, n] shape (undefined: any). */
export type InputSpecs = Readonly<Record<string, Readonly<Record<string, { dtype: DataType; columns?: number }>>>>;

/** A tensor close to what the input wants: right dtype and shape with the data sized to match, or one of these slightly off. */
function plausibleTensor({ dtype: wanted, columns }: { dtype: DataType; columns?: number }): fc.Arbitrary<TensorProto> {
  return fc
    .record({
      rows: fc.integer({ min: 0, max: 3 }),
      columns: columns === undefined ? fc.integer({ min: 0, max: 4 }) : mostly(fc.constant(columns), fc.integer({ min: 0, max: 5 })),
      dtype: mostly(fc.constant(wanted), dtype),
      packed: fc.boolean(),
      base: tensorProto,
    })
    .map(({ rows, columns: n, dtype: d, packed, base }) => {
      const count = rows * n;
      const shape = { dim: [{ size: BigInt(rows), name: '' }, { size: BigInt(n), name: '' }], unknownRank: false };
      const tensor = { ...base, dtype: d, tensorShape: shape, tensorContent: new Uint8Array(), floatVal: [], stringVal: [] } as TensorProto;
      if (d === DataType.DT_STRING) tensor.stringVal = Array.from({ length: count }, (_, i) => new TextEncoder().encode(`s${i}`));
      else if (packed) tensor.tensorContent = new Uint8Array(count * 4).fill(1);
      else tensor.floatVal = Array.from({ length: count }, (_, i) => i / 2);
      return tensor;
    });
}

/** Predict requests: some close to valid for one of the models, some anything at all. */
export function predictRequest(inputs: InputSpecs): fc.Arbitrary<PredictRequest> {
  const models = Object.keys(inputs);
  const aliases = [...new Set(Object.values(inputs).flatMap((i) => Object.keys(i)))];
  const anything = fc.record({
    modelSpec: fc.option(modelSpec(models), { nil: undefined, freq: 20 }),
    inputs: fc.dictionary(name(aliases), tensorProto, { maxKeys: 3 }),
    outputFilter: fc.array(name(['y', 'sum', 'product']), { maxLength: 3 }),
  });
  const plausible = fc.constantFrom(...models).chain((model) =>
    fc.record({
      modelSpec: modelSpec([model]),
      inputs: fc.record(Object.fromEntries(Object.entries(inputs[model]!).map(([alias, spec]) => [alias, plausibleTensor(spec)]))),
      outputFilter: mostly(fc.constant<string[]>([]), fc.array(name(['y', 'sum', 'product']), { maxLength: 2 })),
    }),
  );
  return fc.oneof({ weight: 1, arbitrary: anything }, { weight: 2, arbitrary: plausible }) as fc.Arbitrary<PredictRequest>;
}

/** Bytes near a valid encoding: truncated, bit-flipped, spliced, or random. */
export function mutatedBytes(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.tuple(valid, fc.nat()).map(([bytes, cut]) => bytes.slice(0, bytes.length ? cut % bytes.length : 0)),
    fc.tuple(valid, fc.nat(), fc.integer({ min: 0, max: 7 })).map(([bytes, at, bit]) => {
      const copy = bytes.slice();
      if (copy.length) copy[at % copy.length]! ^= 1 << bit;
      return copy;
    }),
    fc.tuple(valid, fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.nat()).map(([bytes, junk, at]) => {
      const cut = bytes.length ? at % bytes.length : 0;
      return Uint8Array.from([...bytes.slice(0, cut), ...junk, ...bytes.slice(cut)]);
    }),
  );
}

/** Text mutated by deleting, inserting or replacing a span (for the JSON and text-format parsers). */
export function mutatedText(valid: fc.Arbitrary<string>, tokens: readonly string[]): fc.Arbitrary<string> {
  const token = fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 4 }));
  return fc.tuple(valid, fc.array(fc.tuple(fc.constantFrom('delete', 'insert', 'replace'), fc.nat(), fc.nat({ max: 6 }), token), { minLength: 1, maxLength: 4 })).map(([text, edits]) =>
    edits.reduce((s, [kind, at, length, insert]) => {
      const i = s.length ? at % (s.length + 1) : 0;
      if (kind === 'delete') return s.slice(0, i) + s.slice(i + length);
      if (kind === 'insert') return s.slice(0, i) + insert + s.slice(i);
      return s.slice(0, i) + insert + s.slice(i + length);
    }, text),
  );
}
