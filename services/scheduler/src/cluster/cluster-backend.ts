import {
  ClassificationRequest,
  ClassificationResponse,
  GetModelMetadataRequest,
  GetModelMetadataResponse,
  MultiInferenceRequest,
  MultiInferenceResponse,
  PredictRequest,
  PredictResponse,
  RegressionRequest,
  RegressionResponse,
  ReloadConfigRequest,
  ReloadConfigResponse,
  type GetModelStatusRequest,
  type GetModelStatusResponse,
} from '@maas/protos';
import { UnavailableError } from '@maas/errors';
import { clusterModelStatus, type ClusterState } from '@maas/cluster-state';
import type { CallContext, ServingBackend } from '@maas/serving-api';
import type { Router } from './router.js';
import type { WorkerView } from './worker-view.js';

const PREDICTION = '/tensorflow.serving.PredictionService';

/**
 * The TF Serving API answered by the cluster, for callers that hold decoded messages (the REST
 * front end, ModelService). gRPC PredictionService calls skip this and forward bytes directly.
 */
export class ClusterBackend implements ServingBackend {
  constructor(
    private readonly router: Router,
    private readonly view: WorkerView,
    private readonly state: ClusterState,
  ) {}

  async predict(request: PredictRequest, context: CallContext): Promise<PredictResponse> {
    const bytes = await this.router.forward(`${PREDICTION}/Predict`, Buffer.from(PredictRequest.encode(request).finish()), request.modelSpec, context.deadline);
    return PredictResponse.decode(bytes);
  }

  async classify(request: ClassificationRequest, context: CallContext): Promise<ClassificationResponse> {
    const bytes = await this.router.forward(`${PREDICTION}/Classify`, Buffer.from(ClassificationRequest.encode(request).finish()), request.modelSpec, context.deadline);
    return ClassificationResponse.decode(bytes);
  }

  async regress(request: RegressionRequest, context: CallContext): Promise<RegressionResponse> {
    const bytes = await this.router.forward(`${PREDICTION}/Regress`, Buffer.from(RegressionRequest.encode(request).finish()), request.modelSpec, context.deadline);
    return RegressionResponse.decode(bytes);
  }

  async multiInference(request: MultiInferenceRequest, context: CallContext): Promise<MultiInferenceResponse> {
    const bytes = await this.router.forward(`${PREDICTION}/MultiInference`, Buffer.from(MultiInferenceRequest.encode(request).finish()), request.tasks[0]?.modelSpec, context.deadline);
    return MultiInferenceResponse.decode(bytes);
  }

  async getModelMetadata(request: GetModelMetadataRequest, context: CallContext): Promise<GetModelMetadataResponse> {
    const bytes = await this.router.forward(`${PREDICTION}/GetModelMetadata`, Buffer.from(GetModelMetadataRequest.encode(request).finish()), request.modelSpec, context.deadline);
    return GetModelMetadataResponse.decode(bytes);
  }

  async getModelStatus(request: GetModelStatusRequest): Promise<GetModelStatusResponse> {
    return clusterModelStatus(this.view.workers, request.modelSpec);
  }

  /** The registry owns the catalogue: reloads are passed to it. */
  async reloadConfig(request: ReloadConfigRequest, context: CallContext): Promise<ReloadConfigResponse> {
    const address = await this.state.registryAddress().catch(() => undefined);
    if (!address) throw new UnavailableError('No registry is reachable to take the config reload; retry shortly');
    const bytes = await this.router.forwardTo(address, '/tensorflow.serving.ModelService/HandleReloadConfigRequest', Buffer.from(ReloadConfigRequest.encode(request).finish()), context.deadline);
    return ReloadConfigResponse.decode(bytes);
  }
}
