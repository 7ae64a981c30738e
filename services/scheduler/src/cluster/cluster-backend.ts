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
  type ModelSpec,
} from '@maas/protos';
import { UnavailableError } from '@maas/errors';
import { clusterModelStatus, type ClusterState } from '@maas/cluster-state';
import type { CallContext, ServingBackend } from '@maas/serving-api';
import type { Router } from './router.js';
import type { WorkerView } from './worker-view.js';
import { ShortLivedCache } from './short-lived-cache.js';

const PREDICTION = '/tensorflow.serving.PredictionService';
/**
 * How long a model's metadata answer is reused. Every REST predict asks for the signature first;
 * without this each would cost a second hop to a worker. A version switch shows within this time.
 */
const METADATA_TTL_MS = 1000;

/** What ts-proto generates for each message type. */
interface MessageCodec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

/**
 * The TF Serving API answered by the cluster, for callers that hold decoded messages (the REST
 * front end, ModelService). gRPC PredictionService calls skip this and forward bytes directly.
 */
export class ClusterBackend implements ServingBackend {
  private readonly metadata = new ShortLivedCache<GetModelMetadataResponse>(METADATA_TTL_MS);

  constructor(
    private readonly router: Router,
    private readonly view: WorkerView,
    private readonly state: ClusterState,
  ) {}

  predict(request: PredictRequest, context: CallContext): Promise<PredictResponse> {
    return this.forward('Predict', PredictRequest, PredictResponse, request, request.modelSpec, context);
  }

  classify(request: ClassificationRequest, context: CallContext): Promise<ClassificationResponse> {
    return this.forward('Classify', ClassificationRequest, ClassificationResponse, request, request.modelSpec, context);
  }

  regress(request: RegressionRequest, context: CallContext): Promise<RegressionResponse> {
    return this.forward('Regress', RegressionRequest, RegressionResponse, request, request.modelSpec, context);
  }

  multiInference(request: MultiInferenceRequest, context: CallContext): Promise<MultiInferenceResponse> {
    return this.forward('MultiInference', MultiInferenceRequest, MultiInferenceResponse, request, request.tasks[0]?.modelSpec, context);
  }

  getModelMetadata(request: GetModelMetadataRequest, context: CallContext): Promise<GetModelMetadataResponse> {
    const key = Buffer.from(GetModelMetadataRequest.encode(request).finish()).toString('latin1');
    // Metadata is not batched: the batching hints stay behind.
    return this.metadata.get(key, () =>
      this.forward('GetModelMetadata', GetModelMetadataRequest, GetModelMetadataResponse, request, request.modelSpec, { deadline: context.deadline }),
    );
  }

  /** Encodes a PredictionService request, routes it to a replica of `spec`'s model and decodes the answer. */
  private async forward<Req, Res>(
    method: string,
    requestType: MessageCodec<Req>,
    responseType: MessageCodec<Res>,
    request: Req,
    spec: ModelSpec | undefined,
    context: CallContext,
  ): Promise<Res> {
    const bytes = await this.router.forward(`${PREDICTION}/${method}`, Buffer.from(requestType.encode(request).finish()), spec, context.deadline, context);
    return responseType.decode(bytes);
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
