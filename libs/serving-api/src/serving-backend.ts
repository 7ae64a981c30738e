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

/** What a front end knows about the call it is serving. */
export interface CallContext {
  /** Absolute deadline in epoch milliseconds; undefined when the client set none. */
  deadline?: number;
  /** Batch-queue priority level from the x-maas-priority header (1 = highest); undefined: the model's default. */
  priority?: number;
  /** Longest wait in the batch queue from the x-maas-queue-timeout-ms header; undefined: the model's default. */
  queueTimeoutMs?: number;
}

/**
 * The TF Serving methods as one interface. The gRPC and REST front ends call it; the single-node
 * server answers it in-process with a worker, the cluster's scheduler by forwarding to workers.
 * Implementations throw ServingErrors (libs/errors) and never return partial answers.
 */
export interface ServingBackend {
  predict(request: PredictRequest, context: CallContext): Promise<PredictResponse>;
  classify(request: ClassificationRequest, context: CallContext): Promise<ClassificationResponse>;
  regress(request: RegressionRequest, context: CallContext): Promise<RegressionResponse>;
  multiInference(request: MultiInferenceRequest, context: CallContext): Promise<MultiInferenceResponse>;
  getModelMetadata(request: GetModelMetadataRequest, context: CallContext): Promise<GetModelMetadataResponse>;
  getModelStatus(request: GetModelStatusRequest, context: CallContext): Promise<GetModelStatusResponse>;
  reloadConfig(request: ReloadConfigRequest, context: CallContext): Promise<ReloadConfigResponse>;
}
