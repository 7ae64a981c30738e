import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DataType } from '@maas/protos';
import { InvalidArgumentError } from '@maas/errors';
import { decodeTensor } from '@maas/tensor-codec';
import { tensorProto } from '../arbitraries.js';
import type { FuzzProperty, FuzzTarget } from '../target.js';

const MAX_ELEMENTS = 4096;

/** Any TensorProto decodes to a tensor of its declared shape, or is INVALID_ARGUMENT; nothing else. */
export const tensorCodecTarget: FuzzTarget<void> = {
  name: 'tensor-codec',
  setup: async () => {},
  teardown: async () => {},
  property: () =>
    fc.property(tensorProto, fc.option(fc.constantFrom(DataType.DT_FLOAT, DataType.DT_STRING, DataType.DT_INT64, DataType.DT_HALF), { nil: undefined }), (proto, expectedDtype) => {
      let tensor;
      try {
        tensor = decodeTensor(proto, { alias: 'x', expectedDtype, maxElements: MAX_ELEMENTS });
      } catch (error) {
        assert.ok(error instanceof InvalidArgumentError, `not INVALID_ARGUMENT: ${String(error)}`);
        return true;
      }
      const dims = (proto.tensorShape?.dim ?? []).map((d) => Number(d.size));
      assert.deepEqual([...tensor.dims], dims);
      assert.equal(tensor.size, dims.reduce((a, b) => a * b, 1));
      return true;
    }) as FuzzProperty,
};
