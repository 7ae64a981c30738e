import fc from 'fast-check';
import { parseModelServerConfig, TextFormatError } from '@maas/text-proto';
import { mutatedText } from '../arbitraries.js';
import type { FuzzProperty, FuzzTarget } from '../target.js';

const VALID = [
  'model_config_list { config { name: "a" base_path: "/m/a" model_platform: "onnx" } }',
  `model_config_list {
  config {
    name: 'b' base_path: "/m/b"
    model_version_policy { specific { versions: 1 versions: 2 } }
    version_labels { key: "stable" value: 1 }
  }
  config { name: "c", base_path: "/m/c", model_version_policy: { latest: { num_versions: 2 } } }
}`,
  'custom_model_config { [type.googleapis.com/x.Y] { a: 1 } }',
];

const TOKENS = ['{', '}', '<', '>', '[', ']', ':', ',', ';', '"', "'", '\\', '#\n', 'model_config_list', 'config', 'name', 'base_path', 'versions', '-1', '1e999', '0x', '99999999999999999999', '"\\x4', '"\\u12"', 'true', '{'.repeat(200), '[type.googleapis.com/'];

/** Any text parses to a config or is a TextFormatError: no other exception, no stack overflow. */
export const modelConfigTarget: FuzzTarget<void> = {
  name: 'model-config',
  setup: async () => {},
  teardown: async () => {},
  property: () =>
    fc.property(fc.oneof(mutatedText(fc.constantFrom(...VALID), TOKENS), fc.string({ maxLength: 80 }), fc.array(fc.constantFrom(...TOKENS), { maxLength: 30 }).map((t) => t.join(' '))), (text) => {
      try {
        parseModelServerConfig(text);
      } catch (error) {
        if (!(error instanceof TextFormatError)) throw new Error(`not a TextFormatError: ${String(error)}`, { cause: error });
      }
      return true;
    }) as FuzzProperty,
};
