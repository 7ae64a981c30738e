import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type {
  Any,
  BatchingParameters,
  FileSystemStoragePathSourceConfig_ServableVersionPolicy,
  LoggingConfig,
  ModelConfig,
  ModelServerConfig,
  MonitoringConfig,
  SamplingConfig,
  SamplingConfig_PerTaskSamplingConfig,
} from '@maas/protos';
import { TextFormatError, parseBatchingParameters, parseModelServerConfig, parseMonitoringConfig, parseTextFormat } from '../src/index.js';

// ---------------------------------------------------------------------------------------------
// A text-format printer written independently of the parser. Every choice the text format allows
// (quote style, escapes, split string literals, number bases, separators, comments, list syntax,
// <> or {}, field order, omitted zero values) is drawn from a seeded random source, so each
// generated config is printed in a different but equivalent way.
// ---------------------------------------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A quote character: escaped if it is the quote the literal ends up using, written raw otherwise. */
interface QuoteChar {
  readonly quote: string;
}

/** Chunks of text for one field, printed in order; the printer interleaves different fields' chunks. */
type Group = string[];

class Printer {
  constructor(private readonly random: () => number) {}

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  chance(p = 0.5): boolean {
    return this.random() < p;
  }

  ws(): string {
    return this.pick([' ', '  ', '\n', '\t', '\n    ', ' # a comment, with "quotes" and { braces\n', '\r\n']);
  }

  // ---- scalars ----

  private byteEscape(byte: number): string {
    // Full width, so a digit after the escape cannot be read as part of it.
    return this.chance() ? `\\${byte.toString(8).padStart(3, '0')}` : `\\x${byte.toString(16).padStart(2, '0')}`;
  }

  /** Each code point (or byte) becomes one piece; literals may be split between any two pieces. */
  private literal(pieces: Array<string | QuoteChar>): string {
    let out = '';
    let current: Array<string | QuoteChar> = [];
    const flush = () => {
      const quote = this.pick(['"', "'"]);
      out += `${out === '' ? '' : this.pick([' ', '', '\n  '])}${quote}${current.map((piece) => (typeof piece === 'string' ? piece : piece.quote === quote ? `\\${quote}` : piece.quote)).join('')}${quote}`;
      current = [];
    };
    for (const piece of pieces) {
      current.push(piece);
      if (this.chance(0.1)) flush();
    }
    flush();
    return out;
  }

  string(value: string): string {
    const pieces: Array<string | QuoteChar> = [];
    const escapes: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r', '\\': '\\\\', '\u0007': '\\a', '\b': '\\b', '\f': '\\f', '\v': '\\v' };
    for (const char of value) {
      const cp = char.codePointAt(0) as number;
      if (char === '"' || char === "'") pieces.push(this.chance() ? (this.chance() ? { quote: char } : `\\${char}`) : `\\x${cp.toString(16)}`);
      else if (escapes[char] !== undefined && this.chance(0.7)) pieces.push(escapes[char] as string);
      else if (cp < 0x20 || cp === 0x7f || char === '\\') pieces.push(this.byteEscape(cp));
      else if (cp < 0x80) pieces.push(this.chance(0.9) ? char : this.byteEscape(cp));
      else {
        const choice = this.pick(['raw', 'u', 'bytes']);
        if (choice === 'raw') pieces.push(char);
        else if (choice === 'u') {
          pieces.push(cp > 0xffff && this.chance() ? `\\U${cp.toString(16).padStart(8, '0')}` : [...char.split('').map((u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, '0')}`)].join(''));
        } else {
          for (const byte of new TextEncoder().encode(char)) pieces.push(this.byteEscape(byte));
        }
      }
    }
    return this.literal(pieces);
  }

  bytes(value: Uint8Array): string {
    return this.literal([...value].map((b) => (b >= 0x30 && b <= 0x7a && b !== 0x5c && this.chance() ? String.fromCharCode(b) : this.byteEscape(b))));
  }

  integer(value: bigint | number): string {
    const big = BigInt(value);
    const magnitude = big < 0n ? -big : big;
    const base = this.pick(['dec', 'dec', 'hex', 'oct']);
    const digits =
      base === 'hex' ? `0${this.pick(['x', 'X'])}${magnitude.toString(16)}` : base === 'oct' && magnitude !== 0n ? `0${magnitude.toString(8)}` : magnitude.toString();
    return big < 0n ? `-${this.pick(['', ' '])}${digits}` : digits;
  }

  double(value: number): string {
    if (Number.isNaN(value)) return this.pick(['nan', 'NaN']);
    const negative = value < 0 || Object.is(value, -0);
    const magnitude = Math.abs(value);
    const body = magnitude === Infinity ? this.pick(['inf', 'infinity', 'Infinity']) : String(magnitude);
    return negative ? `-${magnitude === Infinity ? '' : this.pick(['', ' '])}${body}` : body;
  }

  bool(value: boolean): string {
    return this.pick(value ? ['true', 'True', 't', '1'] : ['false', 'False', 'f', '0']);
  }

  // ---- fields ----

  scalarField(name: string, value: string): string {
    return `${name}${this.pick(['', ' '])}:${this.pick([' ', '', '\n  '])}${value}`;
  }

  messageField(name: string, body: string): string {
    const [open, close] = this.pick([['{', '}'], ['<', '>']] as const);
    return `${name}${this.pick(['', ' ', ':', ': '])}${open}${this.ws()}${body}${this.ws()}${close}`;
  }

  private message(body: string): string {
    const [open, close] = this.pick([['{', '}'], ['<', '>']] as const);
    return `${open}${this.ws()}${body}${this.ws()}${close}`;
  }

  /** Repeated values as a mix of single fields and list-syntax runs (and the odd empty list). */
  private repeated(name: string, values: string[], single: (v: string) => string, colonBeforeList: boolean): Group {
    const chunks: string[] = [];
    let i = 0;
    while (i < values.length) {
      if (this.chance(0.1)) chunks.push(`${name}: []`);
      if (this.chance(0.6)) {
        chunks.push(single(values[i] as string));
        i++;
      } else {
        const run = values.slice(i, i + 1 + Math.floor(this.random() * 3));
        i += run.length;
        chunks.push(`${name}${colonBeforeList || this.chance() ? ':' : ''} [${run.join(`,${this.pick([' ', '', '\n'])}`)}]`);
      }
    }
    return chunks;
  }

  repeatedScalars(name: string, values: string[]): Group {
    return this.repeated(name, values, (v) => this.scalarField(name, v), true);
  }

  repeatedMessages(name: string, bodies: string[]): Group {
    return this.repeated(name, bodies.map((b) => this.message(b)), (m) => `${name}${this.pick(['', ' ', ':', ': '])}${m}`, false);
  }

  /** Interleaves the groups' chunks at random (keeping each group's order) with separators. */
  body(groups: Group[]): string {
    const queues = groups.filter((g) => g.length > 0).map((g) => [...g]);
    const parts: string[] = [];
    while (queues.length > 0) {
      const index = Math.floor(this.random() * queues.length);
      const queue = queues[index] as string[];
      parts.push(`${queue.shift() as string}${this.pick(['', '', ',', ';'])}`);
      if (queue.length === 0) queues.splice(index, 1);
    }
    return parts.join(this.ws());
  }

  /** A scalar field, left out now and then when it holds the proto3 zero value. */
  optionalScalar(name: string, isZero: boolean, value: () => string): Group {
    return isZero && this.chance() ? [] : [this.scalarField(name, value())];
  }
}

function printAny(p: Printer, any: Any): string {
  return p.body([
    p.optionalScalar('type_url', any.typeUrl === '', () => p.string(any.typeUrl)),
    p.optionalScalar('value', any.value.length === 0, () => p.bytes(any.value)),
  ]);
}

function printPolicy(p: Printer, policy: FileSystemStoragePathSourceConfig_ServableVersionPolicy): string {
  if (policy.latest) return p.messageField('latest', p.body([p.optionalScalar('num_versions', policy.latest.numVersions === 0, () => p.integer(policy.latest!.numVersions))]));
  if (policy.all) return p.messageField('all', '');
  if (policy.specific) return p.messageField('specific', p.body([p.repeatedScalars('versions', policy.specific.versions.map((v) => p.integer(v)))]));
  return '';
}

function printPerTask(p: Printer, c: SamplingConfig_PerTaskSamplingConfig): string {
  return p.body([
    p.optionalScalar('dc', c.dc === '', () => p.string(c.dc)),
    c.taskIndex === undefined ? [] : [p.scalarField('task_index', p.integer(c.taskIndex))],
    p.optionalScalar('sampling_rate', Object.is(c.samplingRate, 0), () => p.double(c.samplingRate)),
  ]);
}

function printSampling(p: Printer, c: SamplingConfig): string {
  return p.body([
    p.optionalScalar('sampling_rate', Object.is(c.samplingRate, 0), () => p.double(c.samplingRate)),
    p.optionalScalar('attributes', c.attributes === 0, () => p.integer(c.attributes)),
    p.repeatedMessages('per_task_sampling_configs', c.perTaskSamplingConfigs.map((t) => printPerTask(p, t))),
  ]);
}

function printLogging(p: Printer, c: LoggingConfig): string {
  const collector = c.logCollectorConfig;
  return p.body([
    collector === undefined
      ? []
      : [p.messageField('log_collector_config', p.body([
          p.optionalScalar('type', collector.type === '', () => p.string(collector.type)),
          p.optionalScalar('filename_prefix', collector.filenamePrefix === '', () => p.string(collector.filenamePrefix)),
        ]))],
    c.samplingConfig === undefined ? [] : [p.messageField('sampling_config', printSampling(p, c.samplingConfig))],
    c.customLoggingConfig === undefined ? [] : [p.messageField('custom_logging_config', printAny(p, c.customLoggingConfig))],
  ]);
}

function printModel(p: Printer, m: ModelConfig): string {
  const modelTypeNames = ['MODEL_TYPE_UNSPECIFIED', 'TENSORFLOW', 'OTHER'];
  return p.body([
    p.optionalScalar('name', m.name === '', () => p.string(m.name)),
    p.optionalScalar('base_path', m.basePath === '', () => p.string(m.basePath)),
    p.optionalScalar('model_type', m.modelType === 0, () => (p.chance() ? (modelTypeNames[m.modelType] as string) : p.integer(m.modelType))),
    p.optionalScalar('model_platform', m.modelPlatform === '', () => p.string(m.modelPlatform)),
    m.modelVersionPolicy === undefined ? [] : [p.messageField('model_version_policy', printPolicy(p, m.modelVersionPolicy))],
    p.repeatedMessages(
      'version_labels',
      Object.entries(m.versionLabels).map(([key, value]) =>
        p.body([p.optionalScalar('key', key === '', () => p.string(key)), p.optionalScalar('value', value === 0n, () => p.integer(value))]),
      ),
    ),
    m.loggingConfig === undefined ? [] : [p.messageField('logging_config', printLogging(p, m.loggingConfig))],
  ]);
}

function printServerConfig(p: Printer, c: ModelServerConfig): string {
  const list = c.modelConfigList;
  const text = p.body([
    list === undefined ? [] : [p.messageField('model_config_list', p.body([p.repeatedMessages('config', list.config.map((m) => printModel(p, m)))]))],
    c.customModelConfig === undefined ? [] : [p.messageField('custom_model_config', printAny(p, c.customModelConfig))],
  ]);
  return p.pick(['', '\n', '# header comment\n']) + text + p.pick(['', '\n', ' # trailing comment']);
}

function printBatching(p: Printer, b: BatchingParameters): string {
  const wrapped = (name: string, value: bigint | string | boolean | undefined, print: (v: never) => string, isZero: boolean): Group =>
    value === undefined ? [] : [p.messageField(name, p.body([p.optionalScalar('value', isZero, () => print(value as never))]))];
  return p.body([
    wrapped('max_batch_size', b.maxBatchSize, (v: bigint) => p.integer(v), b.maxBatchSize === 0n),
    wrapped('batch_timeout_micros', b.batchTimeoutMicros, (v: bigint) => p.integer(v), b.batchTimeoutMicros === 0n),
    wrapped('max_enqueued_batches', b.maxEnqueuedBatches, (v: bigint) => p.integer(v), b.maxEnqueuedBatches === 0n),
    wrapped('num_batch_threads', b.numBatchThreads, (v: bigint) => p.integer(v), b.numBatchThreads === 0n),
    wrapped('thread_pool_name', b.threadPoolName, (v: string) => p.string(v), b.threadPoolName === ''),
    p.repeatedScalars('allowed_batch_sizes', b.allowedBatchSizes.map((v) => p.integer(v))),
    p.optionalScalar('pad_variable_length_inputs', !b.padVariableLengthInputs, () => p.bool(b.padVariableLengthInputs)),
    wrapped('enable_large_batch_splitting', b.enableLargeBatchSplitting, (v: boolean) => p.bool(v), b.enableLargeBatchSplitting === false),
    wrapped('max_execution_batch_size', b.maxExecutionBatchSize, (v: bigint) => p.integer(v), b.maxExecutionBatchSize === 0n),
  ]);
}

function printMonitoring(p: Printer, m: MonitoringConfig): string {
  const prometheus = m.prometheusConfig;
  if (prometheus === undefined) return p.pick(['', ' # nothing\n']);
  return p.messageField('prometheus_config', p.body([
    p.optionalScalar('enable', !prometheus.enable, () => p.bool(prometheus.enable)),
    p.optionalScalar('path', prometheus.path === '', () => p.string(prometheus.path)),
  ]));
}

// ---------------------------------------------------------------------------------------------
// Arbitraries producing complete ts-proto shapes (every key present, plain prototypes).
// ---------------------------------------------------------------------------------------------

const plain = { noNullPrototype: true } as const;
const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 10 }), fc.string({ unit: 'binary-ascii', maxLength: 10 }), fc.constantFrom('', '/models/a', "it's \"quoted\"", '\\'));
const int64 = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constantFrom(0n, 1n, -(2n ** 63n), 2n ** 63n - 1n));
const double = fc.oneof(fc.double(), fc.constantFrom(0, -0, 0.25, 1, NaN, Infinity, -Infinity, 5e-324));
const uint32 = fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.constantFrom(0, 1, 2 ** 32 - 1));
const int32 = fc.oneof(fc.integer(), fc.constantFrom(0, -(2 ** 31), 2 ** 31 - 1));
const anyMessage: fc.Arbitrary<Any> = fc.record({ typeUrl: text, value: fc.uint8Array({ maxLength: 8 }) }, plain);
const none = fc.constant(undefined);

const policy: fc.Arbitrary<FileSystemStoragePathSourceConfig_ServableVersionPolicy> = fc.oneof(
  fc.record({ latest: fc.record({ numVersions: uint32 }, plain), all: none, specific: none }, plain),
  fc.record({ latest: none, all: fc.constant({}), specific: none }, plain),
  fc.record({ latest: none, all: none, specific: fc.record({ versions: fc.array(int64, { maxLength: 6 }) }, plain) }, plain),
  fc.record({ latest: none, all: none, specific: none }, plain),
);

const loggingConfig: fc.Arbitrary<LoggingConfig> = fc.record(
  {
    logCollectorConfig: fc.option(fc.record({ type: text, filenamePrefix: text }, plain), { nil: undefined }),
    samplingConfig: fc.option(
      fc.record(
        {
          samplingRate: double,
          attributes: int32,
          perTaskSamplingConfigs: fc.array(fc.record({ dc: text, taskIndex: fc.option(int32, { nil: undefined }), samplingRate: double }, plain), { maxLength: 3 }),
        },
        plain,
      ),
      { nil: undefined },
    ),
    customLoggingConfig: fc.option(anyMessage, { nil: undefined }),
  },
  plain,
);

const modelConfig: fc.Arbitrary<ModelConfig> = fc.record(
  {
    name: text,
    basePath: text,
    modelType: fc.constantFrom(0, 1, 2),
    modelPlatform: fc.constantFrom('', 'tensorflow', 'onnx'),
    modelVersionPolicy: fc.option(policy, { nil: undefined }),
    versionLabels: fc.dictionary(text, int64, { ...plain, maxKeys: 4 }),
    loggingConfig: fc.option(loggingConfig, { nil: undefined, freq: 4 }),
  },
  plain,
);

const serverConfig: fc.Arbitrary<ModelServerConfig> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ modelConfigList: fc.record({ config: fc.array(modelConfig, { maxLength: 4 }) }, plain), customModelConfig: none }, plain) },
  { weight: 1, arbitrary: fc.record({ modelConfigList: none, customModelConfig: anyMessage }, plain) },
  { weight: 1, arbitrary: fc.constant({ modelConfigList: undefined, customModelConfig: undefined }) },
);

const batchingParameters: fc.Arbitrary<BatchingParameters> = fc.record(
  {
    maxBatchSize: fc.option(int64, { nil: undefined }),
    batchTimeoutMicros: fc.option(int64, { nil: undefined }),
    maxEnqueuedBatches: fc.option(int64, { nil: undefined }),
    numBatchThreads: fc.option(int64, { nil: undefined }),
    threadPoolName: fc.option(text, { nil: undefined }),
    allowedBatchSizes: fc.array(int64, { maxLength: 5 }),
    padVariableLengthInputs: fc.boolean(),
    enableLargeBatchSplitting: fc.option(fc.boolean(), { nil: undefined }),
    maxExecutionBatchSize: fc.option(int64, { nil: undefined }),
  },
  plain,
);

const monitoringConfig: fc.Arbitrary<MonitoringConfig> = fc.record(
  { prometheusConfig: fc.option(fc.record({ enable: fc.boolean(), path: text }, plain), { nil: undefined }) },
  plain,
);

const seed = fc.integer({ min: 0, max: 2 ** 31 - 1 });

function roundTrip<T>(value: T, seedValue: number, print: (p: Printer, v: T) => string, parse: (text: string) => T): void {
  const printed = print(new Printer(mulberry32(seedValue)), value);
  let parsed: T;
  try {
    parsed = parse(printed);
  } catch (error) {
    throw new Error(`${String(error)}\n--- text ---\n${printed}`);
  }
  assert.deepStrictEqual(parsed, value, `--- text ---\n${printed}`);
}

test('property: any ModelServerConfig printed as text in any style parses back to the same object', () => {
  fc.assert(fc.property(serverConfig, seed, (config, s) => roundTrip(config, s, printServerConfig, parseModelServerConfig)), { numRuns: 400 });
});

test('property: any BatchingParameters printed as text parses back to the same object', () => {
  fc.assert(fc.property(batchingParameters, seed, (params, s) => roundTrip(params, s, printBatching, parseBatchingParameters)), { numRuns: 300 });
});

test('property: any MonitoringConfig printed as text parses back to the same object', () => {
  fc.assert(fc.property(monitoringConfig, seed, (config, s) => roundTrip(config, s, printMonitoring, parseMonitoringConfig)), { numRuns: 100 });
});

test('property: arbitrary input either parses or throws a TextFormatError positioned inside the text', () => {
  const fragments = [
    '{', '}', '<', '>', '[', ']', ':', ',', ';', '-', '"', "'", '\\', '#', '\n', ' ', '.', 'e', 'x', '0', '7', '9', '0x', 'u',
    'model_config_list', 'config', 'name', 'version_labels', 'key', 'value', 'model_version_policy', 'specific', 'versions',
    'latest', 'all', 'true', 'inf', '"a"', "'b'", '[type.googleapis.com/a.B]', 'custom_model_config', '😀', '\\x', '\\u',
  ];
  const input = fc.oneof(fc.array(fc.constantFrom(...fragments), { maxLength: 40 }).map((parts) => parts.join('')), fc.string({ unit: 'binary', maxLength: 40 }));
  fc.assert(
    fc.property(input, (source) => {
      for (const parse of [parseTextFormat, parseModelServerConfig, parseBatchingParameters, parseMonitoringConfig] as Array<(t: string) => unknown>) {
        try {
          parse(source);
        } catch (error) {
          assert.ok(error instanceof TextFormatError, `not a TextFormatError: ${String(error)}`);
          const lines = source.split('\n');
          assert.ok(error.line >= 1 && error.line <= lines.length, `line ${error.line} of ${lines.length}`);
          const lineText = lines[error.line - 1] as string;
          assert.ok(error.column >= 1 && error.column <= [...lineText].length + 1, `column ${error.column} on ${JSON.stringify(lineText)}`);
          assert.ok(error.message.startsWith(`line ${error.line}, column ${error.column}: `));
        }
      }
    }),
    { numRuns: 2000 },
  );
});
