import fc from 'fast-check';
import type { AddressInfo } from 'node:net';
import { RoleSecurity } from '@maas/auth';
import { DEFAULT_REQUEST_LIMITS } from '@maas/limits';
import { startRestServer, stopRestServer } from '@maas/scheduler';
import { mutatedText } from '../arbitraries.js';
import { serveModels, type ServedModels } from '../models.js';
import type { FuzzProperty, FuzzTarget } from '../target.js';

interface RestContext {
  served: ServedModels;
  security: RoleSecurity;
  server: Awaited<ReturnType<typeof startRestServer>>['server'];
  base: string;
}

const POST_PATHS = [
  '/v1/models/adder:predict',
  '/v1/models/adder/versions/2:predict',
  '/v1/models/adder/labels/stable:predict',
  '/v1/models/words:predict',
  '/v1/models/pair:predict',
  '/v1/models/adder:classify',
  '/v1/models/adder:regress',
  '/v1/models/missing:predict',
];
const GET_PATHS = ['/v1/models/adder', '/v1/models/adder/metadata', '/v1/models/adder/versions/9', '/v1/models/%ZZ', '/v1/models/adder/labels/none/metadata'];

/** JSON values shaped like TF Serving bodies: rows, columns, base64 objects, ragged and deep nests. */
const value: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.double(),
    fc.integer(),
    fc.constantFrom(0, -0, 1e308, 2 ** 63, -(2 ** 63), 'NaN', 'Infinity'),
    fc.string({ maxLength: 6 }),
    fc.boolean(),
    fc.constant(null),
    fc.record({ b64: fc.oneof(fc.base64String({ maxLength: 12 }), fc.string({ maxLength: 6 })) }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('x', 'a', 'b', 'y', 'features', 'b64'), tie('value'), { maxKeys: 3 }),
  ),
})).value;

const body = fc.record(
  {
    signature_name: fc.constantFrom('', 'serving_default', 'nope'),
    instances: value,
    inputs: value,
    examples: fc.array(fc.dictionary(fc.constantFrom('x', 'f'), value, { maxKeys: 2 }), { maxLength: 3 }),
    context: value,
  },
  { requiredKeys: [] },
);

const VALID = ['{"instances": [[1.0, 2.0]]}', '{"inputs": {"a": [[1,2,3]], "b": [[4,5,6]]}}', '{"instances": ["a", "b"]}', '{"examples": [{"x": [1.5]}]}'];
const TOKENS = ['{', '}', '[', ']', ',', ':', '"', '\\u00', '1e999', '-', '"b64"', 'NaN', '[[[[[[[[', 'null', '\u0000'];

const number = fc.oneof({ weight: 5, arbitrary: fc.integer({ min: -100, max: 100 }) }, { weight: 1, arbitrary: fc.double() });
const row = (length: fc.Arbitrary<number>) => length.chain((n) => fc.array(number, { minLength: n, maxLength: n }));
const rows = fc.integer({ min: 1, max: 3 }).chain((n) => fc.array(row(fc.constant(n)), { minLength: 1, maxLength: 3 }));

/** Bodies close to what the model on `path` takes (row and columnar formats), as JSON text. */
function plausibleBody(path: string): fc.Arbitrary<string> {
  const model = /models\/(\w+)/.exec(path)?.[1];
  const json =
    model === 'words'
      ? fc.oneof(fc.record({ instances: fc.array(fc.array(fc.string({ maxLength: 4 }), { minLength: 1, maxLength: 1 }), { minLength: 1, maxLength: 3 }) }), fc.record({ inputs: fc.array(fc.array(fc.string(), { minLength: 2, maxLength: 2 }), { maxLength: 2 }) }))
      : model === 'pair'
        ? fc.oneof(fc.record({ instances: fc.array(fc.record({ a: row(fc.constant(3)), b: row(fc.constant(3)) }), { minLength: 1, maxLength: 3 }) }), fc.record({ inputs: fc.record({ a: fc.array(row(fc.constant(3)), { minLength: 1, maxLength: 2 }), b: fc.array(row(fc.constant(3)), { minLength: 1, maxLength: 2 }) }) }))
        : fc.oneof(fc.record({ instances: rows }), fc.record({ inputs: rows }), fc.record({ examples: fc.array(fc.record({ x: row(fc.constant(1)) }), { minLength: 1, maxLength: 2 }) }));
  return fc.oneof({ weight: 3, arbitrary: json.map((b) => JSON.stringify(b)) }, { weight: 1, arbitrary: mutatedText(json.map((b) => JSON.stringify(b)), TOKENS) });
}

export const restRequest = fc.oneof(
  fc.constantFrom(...POST_PATHS).chain((path) =>
    fc.record({
      method: fc.constant('POST'),
      path: fc.constant(path),
      body: fc.oneof({ weight: 3, arbitrary: plausibleBody(path) }, body.map((b) => JSON.stringify(b)), mutatedText(fc.constantFrom(...VALID), TOKENS), fc.string({ maxLength: 40 })),
    }),
  ),
  fc.record({ method: fc.constant('GET'), path: fc.oneof(fc.constantFrom(...GET_PATHS), fc.string({ maxLength: 12 }).map((s) => `/v1/models/${encodeURIComponent(s)}`)), body: fc.constant(undefined) }),
);

/** Any request to the REST API gets JSON back: 200, or a client error with {"error": "..."}; never 500. */
export const restJsonTarget: FuzzTarget<RestContext> = {
  name: 'rest-json',
  async setup() {
    const served = await serveModels();
    const security = new RoleSecurity({ limits: { ...DEFAULT_REQUEST_LIMITS, maxRestRows: 64 }, tlsPollMs: 1000, maxInFlightPerClient: 0, maxConcurrentStreams: 0, log: () => {} });
    const { server } = await startRestServer(served.backend, { host: '127.0.0.1', port: 0, maxBodyBytes: 64 * 1024, ...security.rest() });
    return { served, security, server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  },
  async teardown({ served, security, server }) {
    await stopRestServer(server);
    await security.close();
    await served.stop();
  },
  property: ({ base }) =>
    fc.asyncProperty(restRequest, async ({ method, path, body }) => {
      const response = await fetch(`${base}${path}`, { method, body });
      const text = await response.text();
      if (response.status >= 500 && response.status !== 501 && response.status !== 503 && response.status !== 504) {
        throw new Error(`HTTP ${response.status} for ${method} ${path} ${JSON.stringify(body)}: ${text}`);
      }
      if (response.status === 404 && !path.startsWith('/v1/')) return true;
      // TF Serving writes non-finite floats as bare NaN/Infinity tokens (rapidjson's kWriteNanAndInfFlag).
      const json = JSON.parse(text.replace(/([[,:]\s*)-?(?:NaN|Infinity)(?=\s*[\],}])/g, '$1null')) as { error?: unknown };
      if (response.status !== 200 && typeof json.error !== 'string') throw new Error(`HTTP ${response.status} without {"error"}: ${text}`);
      return true;
    }) as FuzzProperty,
};
