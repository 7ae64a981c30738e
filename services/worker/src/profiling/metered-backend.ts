import type {
  ClassificationRequest,
  ClassificationResponse,
  GetModelMetadataRequest,
  GetModelMetadataResponse,
  GetModelStatusRequest,
  GetModelStatusResponse,
  ModelSpec,
  MultiInferenceRequest,
  MultiInferenceResponse,
  PredictRequest,
  PredictResponse,
  RegressionRequest,
  RegressionResponse,
  ReloadConfigRequest,
  ReloadConfigResponse,
} from '@maas/protos';
import type { CallContext, ServingBackend } from '@maas/serving-api';
import type { LoadMeter } from './load-meter.js';

/**
 * A backend whose inference calls are counted per model in a LoadMeter (the autoscaler's signal).
 * Only models this worker serves are counted, so names sent by clients cannot grow the meter.
 */
export class MeteredBackend implements ServingBackend {
  constructor(
    private readonly inner: ServingBackend,
    private readonly meter: LoadMeter,
    private readonly serves: (model: string) => boolean,
  ) {}

  private async metered<T>(spec: ModelSpec | undefined, run: () => Promise<T>): Promise<T> {
    const name = spec?.name ?? '';
    if (!this.serves(name)) return run();
    const end = this.meter.begin(name);
    try {
      return await run();
    } finally {
      end();
    }
  }

  predict(request: PredictRequest, context: CallContext): Promise<PredictResponse> {
    return this.metered(request.modelSpec, () => this.inner.predict(request, context));
  }

  classify(request: ClassificationRequest, context: CallContext): Promise<ClassificationResponse> {
    return this.metered(request.modelSpec, () => this.inner.classify(request, context));
  }

  regress(request: RegressionRequest, context: CallContext): Promise<RegressionResponse> {
    return this.metered(request.modelSpec, () => this.inner.regress(request, context));
  }

  multiInference(request: MultiInferenceRequest, context: CallContext): Promise<MultiInferenceResponse> {
    return this.metered(request.tasks[0]?.modelSpec, () => this.inner.multiInference(request, context));
  }

  getModelMetadata(request: GetModelMetadataRequest, context: CallContext): Promise<GetModelMetadataResponse> {
    return this.inner.getModelMetadata(request, context);
  }

  getModelStatus(request: GetModelStatusRequest, context: CallContext): Promise<GetModelStatusResponse> {
    return this.inner.getModelStatus(request, context);
  }

  reloadConfig(request: ReloadConfigRequest, context: CallContext): Promise<ReloadConfigResponse> {
    return this.inner.reloadConfig(request, context);
  }
}
