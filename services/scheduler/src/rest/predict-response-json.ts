import type { TensorProto } from '@maas/protos';
import { InvalidArgumentError } from '@maas/errors';
import { JsonWriter } from './json-writer.js';
import type { PredictFormat } from './predict-json.js';
import { jsonTensor, writeNested } from './tensor-to-json.js';

/** Bytes of JSON per element we expect when sizing the reply buffer (`255.0,` is 6, brackets add some). */
const BYTES_PER_ELEMENT_GUESS = 7;

/** PredictResponse outputs as `{"predictions": …}` (row) or `{"outputs": …}` (columnar), TF's MakeJsonFromTensors. */
export function predictResponseJson(outputs: Record<string, TensorProto>, format: PredictFormat): Buffer {
  const tensors = Object.entries(outputs).map(([alias, proto]) => jsonTensor(alias, proto));
  if (tensors.length === 0) throw new InvalidArgumentError('Cannot convert empty tensor map to JSON');
  const named = tensors.length > 1;
  // Sized for short numbers up front, so a large output is not copied while the buffer grows.
  const elements = tensors.reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0);
  const writer = new JsonWriter(64 + elements * BYTES_PER_ELEMENT_GUESS);
  if (format === 'columnar') {
    writer.ascii('{"outputs":');
    if (named) writer.byte(0x7b);
    tensors.forEach((tensor, i) => {
      if (i > 0) writer.byte(0x2c);
      if (named) writer.key(tensor.alias);
      writeNested(writer, tensor, 0, 0);
    });
    if (named) writer.byte(0x7d);
    writer.byte(0x7d);
    return writer.finish();
  }
  let batch = -1;
  for (const { alias, dims } of tensors) {
    if (dims.length === 0) throw new InvalidArgumentError(`Tensor name: ${alias} has no shape information `);
    if (batch >= 0 && dims[0] !== batch) throw new InvalidArgumentError(`Tensor name: ${alias} has inconsistent batch size: ${dims[0]} expecting: ${batch}`);
    batch = dims[0]!;
  }
  const offsets = tensors.map(() => 0);
  writer.ascii('{"predictions":[');
  for (let row = 0; row < batch; row++) {
    if (row > 0) writer.byte(0x2c);
    if (named) writer.byte(0x7b);
    tensors.forEach((tensor, i) => {
      if (i > 0) writer.byte(0x2c);
      if (named) writer.key(tensor.alias);
      offsets[i] = writeNested(writer, tensor, 1, offsets[i]!);
    });
    if (named) writer.byte(0x7d);
  }
  writer.ascii(']}');
  return writer.finish();
}
