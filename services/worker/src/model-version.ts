import { ModelVersionStatus_State as State } from '@maas/protos';
import type { OnnxModel } from '@maas/onnx-runtime';
import type { VersionRunner } from './version-runner.js';

export { State as VersionState };

/**
 * One version of one model through its life: START -> LOADING -> AVAILABLE -> UNLOADING -> END
 * (or LOADING -> END with an error). Requests hold a lease while they use the model so an
 * unload waits for them instead of failing them.
 */
export class ModelVersion {
  state: State = State.START;
  /** Why the version ended, when it ended in error (a gRPC/TF status code and message). */
  error?: { code: number; message: string };
  model?: OnnxModel;
  runner?: VersionRunner;
  /** Resident memory the load added (measured around it; reported for placement). */
  memoryBytes = 0;
  /** GPU memory the load added (driver's numbers); 0 on cpu. */
  gpuMemoryBytes = 0;
  /** `sha256:<hex>` of the model file loaded (from its store), once loading got that far. */
  contentHash?: string;
  private leases = 0;
  private drained?: () => void;

  constructor(
    readonly name: string,
    readonly version: number,
    readonly file: string,
  ) {}

  get label(): string {
    return `${this.name}:${this.version}`;
  }

  get inFlight(): number {
    return this.leases;
  }

  /** Takes a lease; the caller must call the returned function exactly once when done. */
  lease(): () => void {
    this.leases++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.leases--;
      if (this.leases === 0) this.drained?.();
    };
  }

  /** Resolves once no request holds a lease. */
  async drain(): Promise<void> {
    if (this.leases === 0) return;
    await new Promise<void>((resolve) => {
      this.drained = resolve;
    });
  }
}
