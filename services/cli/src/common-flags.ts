import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { defaultRuntimeOptions, type RuntimeOptions } from '@maas/onnx-runtime';
import { join, resolve } from 'node:path';
import type { ModelServerConfig } from '@maas/protos';
import { batchingOptionsFromParameters } from '@maas/batching';
import { readModelServerConfig } from '@maas/registry';
import { parseBatchingParameters, TextFormatError } from '@maas/text-proto';
import type { BatchingConfig } from '@maas/worker';
import { DEFAULT_MAX_MESSAGE_BYTES } from '@maas/serving-api';
import { DEFAULT_MAX_REST_BODY_BYTES } from '@maas/scheduler';
import { FlagError, type FlagSpec, type FlagValues } from './flags.js';

/** Flags every listening role takes. */
export const LISTEN_FLAGS: Record<string, FlagSpec> = {
  port: { type: 'int', default: 8500, help: 'gRPC port (0 picks a free port)' },
  grpc_host: { type: 'string', default: '0.0.0.0', help: 'address the listeners bind' },
  grpc_max_message_bytes: { type: 'int', default: DEFAULT_MAX_MESSAGE_BYTES, help: 'largest gRPC message each way' },
  help: { type: 'bool', default: false, help: 'print this help' },
};

/** Flags of the roles that serve REST. */
export const REST_FLAGS: Record<string, FlagSpec> = {
  rest_api_port: { type: 'int', default: 8501, help: 'REST port (0 disables REST; -1 picks a free port)' },
  rest_api_max_body_bytes: { type: 'int', default: DEFAULT_MAX_REST_BODY_BYTES, help: 'largest REST request body; larger ones get 413' },
};

/** Where the model catalogue comes from (TF Serving's names). */
export const MODEL_SOURCE_FLAGS: Record<string, FlagSpec> = {
  model_name: { type: 'string', help: "model name (env MODEL_NAME, default 'default')" },
  model_base_path: { type: 'string', help: 'directory holding <version>/model.onnx (env MODEL_BASE_PATH/MODEL_NAME)' },
  model_config_file: { type: 'string', help: 'text-format ModelServerConfig; when given, --model_name/--model_base_path are ignored' },
};

/** Flags of the cluster roles. */
export const CLUSTER_FLAGS: Record<string, FlagSpec> = {
  redis: { type: 'string', help: 'Redis URL (default: env REDIS_URL)' },
  redis_prefix: { type: 'string', default: 'maas:', help: 'prefix of every Redis key, so clusters can share a Redis' },
  advertise_host: { type: 'string', default: '127.0.0.1', help: 'host other processes use to reach this one' },
  heartbeat_ms: { type: 'int', default: 1000, help: 'period of reports to Redis' },
};

/** How sessions are built on this host (a model's <base_path>/runtime.json overrides per model). */
export const RUNTIME_FLAGS: Record<string, FlagSpec> = {
  execution_providers: { type: 'string', default: 'cpu', help: "ordered onnxruntime providers, e.g. 'webgpu,cpu', or 'auto' (fastest that agrees with cpu)" },
  intra_op_threads: { type: 'int', help: 'threads per run inside an operator (default: cores / session instances)' },
  session_instances: { type: 'int', help: 'sessions per model version (default: 1, or 2 on 8+ cores)' },
};

export function runtimeOptionsFrom(flags: FlagValues): RuntimeOptions {
  const defaults = defaultRuntimeOptions();
  const instances = (flags.session_instances as number | undefined) ?? defaults.instances;
  return {
    ...defaults,
    instances,
    intraOpThreads: (flags.intra_op_threads as number | undefined) ?? Math.max(1, Math.floor(availableParallelism() / instances)),
    executionProviders: String(flags.execution_providers).split(',').map((p) => p.trim()).filter(Boolean),
  };
}

/** TF Serving's batching switches (shared/spec §8). */
export const BATCHING_FLAGS: Record<string, FlagSpec> = {
  enable_batching: { type: 'bool', default: false, help: 'batch requests dynamically per model version' },
  batching_parameters_file: { type: 'string', help: 'text-format BatchingParameters (needs --enable_batching)' },
  enable_per_model_batching_parameters: { type: 'bool', default: false, help: "read batching_params.pbtxt in each version directory" },
};

/** The batching config the flags ask for; start-up errors as TF Serving words them. */
export async function batchingConfigFrom(flags: FlagValues): Promise<BatchingConfig | undefined> {
  const file = flags.batching_parameters_file as string | undefined;
  if (!flags.enable_batching) {
    if (file) throw new FlagError('--batching_parameters_file requires --enable_batching');
    return undefined;
  }
  let text = '';
  if (file) {
    text = await readFile(file, 'utf8').catch((error: Error) => {
      throw new FlagError(`cannot read --batching_parameters_file ${file}: ${error.message}`);
    });
  }
  try {
    return { options: batchingOptionsFromParameters(parseBatchingParameters(text)), perModel: flags.enable_per_model_batching_parameters as boolean };
  } catch (error) {
    if (error instanceof TextFormatError) throw new FlagError(`${file}: ${error.message}`);
    throw error;
  }
}

/** TF Serving's 0 means "no REST", so a free port is asked for with -1. */
export function restPortFrom(flag: number): number | undefined {
  if (flag === 0) return undefined;
  return flag < 0 ? 0 : flag;
}

export function redisUrlFrom(flags: FlagValues): string {
  const url = (flags.redis as string | undefined) ?? process.env.REDIS_URL;
  if (!url) throw new FlagError('--redis (or REDIS_URL) is required for the cluster roles');
  return url;
}

/** Single-model mode: one config entry from --model_name/--model_base_path or the container env. */
function singleModelConfig(name: string, basePath: string): ModelServerConfig {
  return { modelConfigList: { config: [{ name, basePath, modelType: 0, modelPlatform: 'onnx', versionLabels: {} }] } };
}

/** The config file's contents when one is named, else single-model mode from flags or env; undefined if neither. */
export async function modelConfigFrom(flags: FlagValues): Promise<{ config: ModelServerConfig; text?: string } | undefined> {
  const file = flags.model_config_file as string | undefined;
  if (file) return readModelServerConfig(file);
  const modelName = (flags.model_name as string | undefined) ?? process.env.MODEL_NAME ?? 'default';
  const envBase = process.env.MODEL_BASE_PATH;
  const basePath = (flags.model_base_path as string | undefined) ?? (envBase ? join(envBase, process.env.MODEL_NAME ?? 'model') : undefined);
  return basePath ? { config: singleModelConfig(modelName, resolve(basePath)) } : undefined;
}
