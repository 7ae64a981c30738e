import type { BenchSettings } from '../config.js';
import type { LoadGeneratorClient } from '../load/generator-client.js';
import type { ModelRepository } from '../model-repo.js';
import type { Row } from '../report.js';

/** What every scenario needs: settings, the models, the load generator, and where rows go. */
export interface BenchContext {
  settings: BenchSettings;
  repo: ModelRepository;
  generator: LoadGeneratorClient;
  rows: Row[];
  notes: string[];
  progress(message: string): void;
}
