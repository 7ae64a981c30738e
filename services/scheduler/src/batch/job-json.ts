import { BatchJob_State, type BatchJob, type ModelSpec, type SubmitBatchJobRequest } from '@maas/protos';
import { InvalidArgumentError } from '@maas/errors';

/*
 * The REST form of the BatchJobs messages: snake_case keys as in TF Serving's REST API, numbers
 * as JSON numbers, inline instances as JSON values (each becomes one row).
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function modelSpecJson(spec: ModelSpec | undefined): Json {
  return {
    name: spec?.name ?? '',
    ...(spec?.version !== undefined && { version: Number(spec.version) }),
    ...(spec?.versionLabel !== undefined && { version_label: spec.versionLabel }),
    signature_name: spec?.signatureName ?? '',
  };
}

export function jobJson(job: BatchJob): Json {
  return {
    id: job.id,
    state: BatchJob_State[job.state],
    model_spec: modelSpecJson(job.modelSpec),
    input_path: job.inputPath,
    output_path: job.outputPath,
    results_path: job.resultsPath,
    rows_per_chunk: job.rowsPerChunk,
    priority: job.priority,
    max_failed_rows: Number(job.maxFailedRows),
    total_rows: Number(job.totalRows),
    rows_done: Number(job.rowsDone),
    rows_failed: Number(job.rowsFailed),
    total_chunks: job.totalChunks,
    chunks_done: job.chunksDone,
    rows_per_second: job.rowsPerSecond,
    eta_seconds: job.etaSeconds,
    error: job.error,
    created_at_ms: Number(job.createdAtMs),
    started_at_ms: Number(job.startedAtMs),
    finished_at_ms: Number(job.finishedAtMs),
  };
}

function field<T>(body: Json, key: string, type: 'string' | 'number' | 'object', fallback: T): T {
  const value = body[key];
  if (value === undefined) return fallback;
  const ok = type === 'number' ? Number.isSafeInteger(value) && (value as number) >= 0 : type === 'object' ? isObject(value) : typeof value === type;
  if (!ok) throw new InvalidArgumentError(`'${key}' must be ${type === 'number' ? 'a non-negative integer' : `a JSON ${type}`}`);
  return value as T;
}

function modelSpecFrom(value: Json): ModelSpec {
  const known = ['name', 'version', 'version_label', 'signature_name'];
  const unknown = Object.keys(value).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown model_spec field(s): ${unknown.join(', ')}`);
  const spec: ModelSpec = { name: field(value, 'name', 'string', ''), signatureName: field(value, 'signature_name', 'string', '') };
  const version = value.version;
  if (version !== undefined) {
    if (!(Number.isSafeInteger(version) || (typeof version === 'string' && /^\d+$/.test(version)))) throw new InvalidArgumentError("'version' must be an integer");
    spec.version = BigInt(version as number | string);
  }
  const label = field<string | undefined>(value, 'version_label', 'string', undefined);
  if (label !== undefined) spec.versionLabel = label;
  return spec;
}

const SUBMIT_FIELDS = ['model_spec', 'input_path', 'instances', 'output_path', 'rows_per_chunk', 'priority', 'max_failed_rows'];

/** A POST /v1/batch/jobs body as a SubmitBatchJobRequest. */
export function submitRequestFrom(body: Buffer): SubmitBatchJobRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new InvalidArgumentError(`the request body is not JSON: ${(error as Error).message}`);
  }
  if (!isObject(parsed)) throw new InvalidArgumentError('the request body must be a JSON object');
  const unknown = Object.keys(parsed).filter((k) => !SUBMIT_FIELDS.includes(k));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown field(s): ${unknown.join(', ')}; expected some of ${SUBMIT_FIELDS.join(', ')}`);
  const instances = parsed.instances;
  if (instances !== undefined && !Array.isArray(instances)) throw new InvalidArgumentError("'instances' must be a list");
  const maxFailed = field<number | undefined>(parsed, 'max_failed_rows', 'number', undefined);
  return {
    modelSpec: modelSpecFrom(field(parsed, 'model_spec', 'object', {})),
    inputPath: field(parsed, 'input_path', 'string', ''),
    instances: (instances ?? []).map((instance) => JSON.stringify(instance)),
    outputPath: field(parsed, 'output_path', 'string', ''),
    rowsPerChunk: field(parsed, 'rows_per_chunk', 'number', 0),
    priority: field(parsed, 'priority', 'number', 0),
    ...(maxFailed !== undefined && { maxFailedRows: BigInt(maxFailed) }),
  };
}
