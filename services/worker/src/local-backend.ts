import type {
  ClassificationRequest,
  ClassificationResponse,
  GetModelMetadataRequest,
  GetModelMetadataResponse,
  GetModelStatusRequest,
  GetModelStatusResponse,
  MultiInferenceRequest,
  MultiInferenceResponse,
  PredictRequest,
  PredictResponse,
  RegressionRequest,
  RegressionResponse,
  ReloadConfigRequest,
  ReloadConfigResponse,
} from '@maas/protos';
import { DeadlineExceededError, UnimplementedError } from '@maas/errors';
import { servableRequestFrom, type CallContext, type ServingBackend } from '@maas/serving-api';
import type { ModelCatalog } from '@maas/registry';
import type { ModelHost } from './model-host.js';
import { checkMetadataFields, signatureMetadata } from './metadata.js';
import { modelStatus } from './model-status.js';
import { checkSignatureName, encodeOutputs, preparePredict, type DecodeLimits } from './predict.js';

function checkDeadline(context: CallContext, what: string): void {
  if (context.deadline !== undefined && Date.now() >= context.deadline) {
    throw new DeadlineExceededError(`Deadline exceeded before ${what} could run`);
  }
}

/** Answers the TF Serving API from the models this process hosts (the single-node backend). */
export class LocalBackend implements ServingBackend {
  constructor(
    private readonly host: ModelHost,
    private readonly catalog: ModelCatalog,
    private readonly limits: DecodeLimits = {},
  ) {}

  async predict(request: PredictRequest, context: CallContext): Promise<PredictResponse> {
    const servable = servableRequestFrom(request.modelSpec);
    const leased = this.host.lease(servable);
    try {
      checkSignatureName(servable.signatureName);
      const { feeds, outputs } = preparePredict(leased.model.signature, request, this.limits);
      checkDeadline(context, leased.version.label);
      const results = await leased.model.run(feeds, outputs.map((o) => o.name));
      return {
        outputs: encodeOutputs(outputs, results),
        modelSpec: { name: servable.name, version: BigInt(leased.version.version), signatureName: servable.signatureName },
      };
    } finally {
      leased.release();
    }
  }

  async getModelMetadata(request: GetModelMetadataRequest): Promise<GetModelMetadataResponse> {
    const servable = servableRequestFrom(request.modelSpec);
    checkMetadataFields(request);
    const leased = this.host.lease(servable);
    try {
      return {
        modelSpec: { name: servable.name, version: BigInt(leased.version.version), signatureName: '' },
        metadata: signatureMetadata(leased.model.signature),
      };
    } finally {
      leased.release();
    }
  }

  async getModelStatus(request: GetModelStatusRequest): Promise<GetModelStatusResponse> {
    return modelStatus(request.modelSpec?.name ? this.host.model(request.modelSpec.name) : undefined, request);
  }

  async classify(_request: ClassificationRequest): Promise<ClassificationResponse> {
    throw new UnimplementedError('Classify is not implemented for ONNX models yet');
  }

  async regress(_request: RegressionRequest): Promise<RegressionResponse> {
    throw new UnimplementedError('Regress is not implemented for ONNX models yet');
  }

  async multiInference(_request: MultiInferenceRequest): Promise<MultiInferenceResponse> {
    throw new UnimplementedError('MultiInference is not implemented for ONNX models yet');
  }

  async reloadConfig(_request: ReloadConfigRequest): Promise<ReloadConfigResponse> {
    throw new UnimplementedError('HandleReloadConfigRequest is not implemented yet');
  }
}
