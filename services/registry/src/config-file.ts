import { readFile } from 'node:fs/promises';
import type { ModelServerConfig } from '@maas/protos';
import { InvalidArgumentError } from '@maas/errors';
import { parseModelServerConfig, TextFormatError } from '@maas/text-proto';

/** Reads a text-format ModelServerConfig (--model_config_file); errors name the file and line. */
export async function readModelServerConfig(path: string): Promise<{ text: string; config: ModelServerConfig }> {
  const text = await readFile(path, 'utf8').catch((error: Error) => {
    throw new InvalidArgumentError(`cannot read model config file ${path}: ${error.message}`);
  });
  try {
    return { text, config: parseModelServerConfig(text) };
  } catch (error) {
    if (error instanceof TextFormatError) throw new InvalidArgumentError(`${path}: ${error.message}`);
    throw error;
  }
}

/**
 * Re-reads the config file every `seconds` (--model_config_file_poll_wait_seconds) and hands
 * changed contents to `apply`. A file that fails to parse or apply is reported and the running
 * config stays; the same bad text is not retried until it changes.
 */
export function pollConfigFile(
  path: string,
  seconds: number,
  initialText: string,
  apply: (config: ModelServerConfig) => Promise<void>,
  log: (message: string) => void,
): { stop(): void } {
  let lastText = initialText;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = async () => {
    try {
      const { text, config } = await readModelServerConfig(path);
      if (text === lastText) return;
      lastText = text;
      await apply(config);
      log(`applied changed model config file ${path}`);
    } catch (error) {
      log(`model config file ${path} not applied: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void tick().finally(schedule), seconds * 1000);
  };
  if (seconds > 0) schedule();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
