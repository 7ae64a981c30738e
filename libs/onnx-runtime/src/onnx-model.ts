import { readFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import { FailedPreconditionError } from '@maas/errors';
import { AUTO_PROVIDER, chooseProvider } from './provider-choice.js';
import { zeroFeeds } from './zero-feeds.js';
import { defaultRuntimeOptions, sessionOptionsFor, type RuntimeOptions } from './runtime-options.js';
import { runError } from './run-errors.js';
import { SessionThread } from './session-thread.js';
import { signatureFromSession, type ModelSignature } from './signature.js';

export type TensorMap = Record<string, ort.Tensor>;

/** One model version loaded into one or more onnxruntime sessions, each on its own thread (see SessionThread). */
export class OnnxModel {
  private readonly busy: number[];

  private constructor(
    /** "name:version", used in messages. */
    readonly label: string,
    readonly signature: ModelSignature,
    private readonly sessions: SessionThread[],
    /** The execution provider the sessions were built for (onnxruntime may still run some nodes on cpu). */
    readonly provider: string,
  ) {
    this.busy = sessions.map(() => 0);
  }

  /** `executionProviders: ['auto']` picks the fastest usable provider that agrees with cpu (see chooseProvider). */
  static async load(file: string, label: string, options: RuntimeOptions = defaultRuntimeOptions()): Promise<OnnxModel> {
    const bytes = await readFile(file);
    const sessions: SessionThread[] = [];
    try {
      const providers = options.executionProviders.includes(AUTO_PROVIDER) ? await chooseProvider(bytes, options) : options.executionProviders;
      const sessionOptions = sessionOptionsFor({ ...options, executionProviders: providers });
      for (let i = 0; i < Math.max(1, options.instances); i++) {
        sessions.push(await SessionThread.start(bytes, sessionOptions));
      }
      return new OnnxModel(label, signatureFromSession(sessions[0]!, file), sessions, providers[0] ?? 'cpu');
    } catch (error) {
      await Promise.all(sessions.map((s) => s.release()));
      throw new FailedPreconditionError(`Failed to load ${label} from ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Runs on the least busy session; errors come back typed (see runError). */
  async run(feeds: TensorMap, outputNames: readonly string[]): Promise<TensorMap> {
    let index = 0;
    for (let i = 1; i < this.busy.length; i++) if (this.busy[i]! < this.busy[index]!) index = i;
    this.busy[index]!++;
    try {
      return await this.sessions[index]!.run(feeds, outputNames);
    } catch (error) {
      throw runError(error, this.label);
    } finally {
      this.busy[index]!--;
    }
  }

  /**
   * One run per session on a one-row input of zeros (symbolic dims as 1), so the first real
   * request does not pay for onnxruntime's lazy allocations. Models whose inputs can't be
   * synthesized this way (e.g. they need specific values) reject; callers treat that as advisory.
   */
  async warm(): Promise<void> {
    const feeds = zeroFeeds(this.signature);
    await Promise.all(this.sessions.map((s) => s.run(feeds)));
  }

  async release(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.release()));
  }
}
