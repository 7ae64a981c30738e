import { join, resolve } from 'node:path';
import type { ModelServerConfig } from '@maas/protos';
import { readModelServerConfig } from '@maas/registry';
import { DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_REST_BODY_BYTES } from '@maas/scheduler';
import { FlagError, flagsHelp, parseFlags, type FlagSpec, type FlagValues } from '../flags.js';
import { startSingleNode, type SingleNodeOptions } from '../single-node.js';

/** TF Serving's flag names and defaults (shared/spec §1, §9), plus a few of our own. */
const SERVE_FLAGS: Record<string, FlagSpec> = {
  port: { type: 'int', default: 8500, help: 'gRPC port' },
  rest_api_port: { type: 'int', default: 8501, help: 'REST port (0 disables REST; -1 picks a free port)' },
  rest_api_max_body_bytes: { type: 'int', default: DEFAULT_MAX_REST_BODY_BYTES, help: 'largest REST request body; larger ones get 413' },
  model_name: { type: 'string', help: "model name (env MODEL_NAME, default 'default')" },
  model_base_path: { type: 'string', help: 'directory holding <version>/model.onnx (env MODEL_BASE_PATH/MODEL_NAME)' },
  file_system_poll_wait_seconds: { type: 'int', default: 1, help: 'seconds between scans for new versions (0 once, <0 never)' },
  model_config_file: { type: 'string', help: 'text-format ModelServerConfig; when given, --model_name/--model_base_path are ignored' },
  model_config_file_poll_wait_seconds: { type: 'int', default: 0, help: 'seconds between re-reads of --model_config_file (0 never)' },
  allow_version_labels_for_unavailable_models: { type: 'bool', default: false, help: 'let new labels point at versions not loaded yet' },
  grpc_host: { type: 'string', default: '0.0.0.0', help: 'address the listeners bind' },
  grpc_max_message_bytes: { type: 'int', default: DEFAULT_MAX_MESSAGE_BYTES, help: 'largest gRPC message each way' },
  max_tensor_elements: { type: 'int', help: 'largest element count of one input tensor' },
  help: { type: 'bool', default: false, help: 'print this help' },
};

/** Single-model mode: one config entry from --model_name/--model_base_path or the container env. */
function singleModelConfig(name: string, basePath: string): ModelServerConfig {
  return {
    modelConfigList: {
      config: [{ name, basePath, modelType: 0, modelPlatform: 'onnx', versionLabels: {} }],
    },
  };
}

/** TF Serving's 0 means "no REST", so a free port is asked for with -1. */
function restPortFrom(flag: number): number | undefined {
  if (flag === 0) return undefined;
  return flag < 0 ? 0 : flag;
}

/** The config file when one is named, else single-model mode from flags or the container's env. */
async function modelSource(flags: FlagValues): Promise<Pick<SingleNodeOptions, 'config' | 'configFile'>> {
  const file = flags.model_config_file as string | undefined;
  if (file) {
    const { text, config } = await readModelServerConfig(file);
    const pollSeconds = flags.model_config_file_poll_wait_seconds as number;
    return { config, configFile: pollSeconds > 0 ? { path: file, text, pollSeconds } : undefined };
  }
  const modelName = (flags.model_name as string | undefined) ?? process.env.MODEL_NAME ?? 'default';
  const envBase = process.env.MODEL_BASE_PATH;
  const basePath = (flags.model_base_path as string | undefined) ?? (envBase ? join(envBase, process.env.MODEL_NAME ?? 'model') : undefined);
  if (!basePath) throw new FlagError('--model_base_path (or MODEL_BASE_PATH), or --model_config_file, is required');
  return { config: singleModelConfig(modelName, resolve(basePath)) };
}

export async function serveCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, SERVE_FLAGS);
  if (flags.help) {
    console.log(`usage: maas serve [flags]\n${flagsHelp(SERVE_FLAGS)}`);
    return;
  }
  const log = (message: string) => console.error(`[maas] ${message}`);
  const source = await modelSource(flags);
  const node = await startSingleNode({
    host: flags.grpc_host as string,
    grpcPort: flags.port as number,
    restPort: restPortFrom(flags.rest_api_port as number),
    maxMessageBytes: flags.grpc_max_message_bytes as number,
    maxRestBodyBytes: flags.rest_api_max_body_bytes as number,
    maxTensorElements: flags.max_tensor_elements as number | undefined,
    pollSeconds: flags.file_system_poll_wait_seconds as number,
    allowUnavailableLabels: flags.allow_version_labels_for_unavailable_models as boolean,
    ...source,
    log,
  });
  const names = source.config.modelConfigList?.config.map((m) => `'${m.name}' from ${m.basePath}`) ?? [];
  log(`serving ${names.join(', ')}`);
  // One machine-readable line so scripts and tests learn the bound ports (useful with --port=0).
  console.log(JSON.stringify({ event: 'ready', grpcPort: node.grpcPort, restPort: node.restPort }));

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: finishing in-flight requests`);
    node.stop().then(
      () => process.exit(0),
      (error) => {
        log(`shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
