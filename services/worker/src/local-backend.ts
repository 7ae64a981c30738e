import {
  Code,
  type ClassificationRequest,
  type ClassificationResponse,
  type GetModelMetadataRequest,
  type GetModelMetadataResponse,
  type GetModelStatusRequest,
  type GetModelStatusResponse,
  type MultiInferenceRequest,
  type MultiInferenceResponse,
  type PredictRequest,
  type PredictResponse,
  type RegressionRequest,
  type RegressionResponse,
  type ReloadConfigRequest,
  type ReloadConfigResponse,
} from '@maas/protos';
import { DeadlineExceededError } from '@maas/errors';
import { servableRequestFrom, type CallContext, type ServingBackend } from '@maas/serving-api';
import { runCompute, withSpan } from '@maas/telemetry';
import type { ModelHost } from './model-host.js';
import type { LeasedVersion } from './served-model.js';
import { checkMetadataFields, signatureMetadata } from './metadata.js';
import { modelStatus } from './model-status.js';
import { checkSignatureName, encodeOutputs, preparePredict, type DecodeLimits } from './predict.js';
import { checkExampleSignatureName, inferFromExamples, multiInferenceModelSpec, planTasks, type ExampleModel } from './examples/index.js';

function checkDeadline(context: CallContext, what: string): void {
  if (context.deadline !== undefined && Date.now() >= context.deadline) {
    throw new DeadlineExceededError(`Deadline exceeded before ${what} could run`);
  }
}

/** The leased model with each run in a `compute` span (Classify/Regress run it directly, not through the batcher). */
function tracedModel(leased: LeasedVersion, api: string): ExampleModel {
  const target = { model: leased.version.name, version: leased.version.version, api };
  return { signature: leased.model.signature, run: (feeds, names) => runCompute(target, () => leased.model.run(feeds, names)) };
}

/** Answers the TF Serving API from the models this process hosts (the single-node backend). */
export class LocalBackend implements ServingBackend {
  constructor(
    private readonly host: ModelHost,
    private readonly limits: DecodeLimits = {},
  ) {}

  async predict(request: PredictRequest, context: CallContext): Promise<PredictResponse> {
    const servable = servableRequestFrom(request.modelSpec);
    const leased = this.host.lease(servable);
    try {
      checkSignatureName(servable.signatureName);
      const { feeds, outputs } = withSpan('decode', () => preparePredict(leased.model.signature, request, this.limits));
      checkDeadline(context, leased.version.label);
      const results = await leased.runner.run(feeds, outputs.map((o) => o.name), context);
      return {
        outputs: withSpan('encode', () => encodeOutputs(outputs, results)),
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

  async classify(request: ClassificationRequest, context: CallContext): Promise<ClassificationResponse> {
    const servable = servableRequestFrom(request.modelSpec);
    const leased = this.host.lease(servable);
    try {
      checkExampleSignatureName(servable.signatureName);
      const [result] = await inferFromExamples(tracedModel(leased, 'Classify'), request.input, ['classify'], {
        limits: this.limits,
        beforeRun: () => checkDeadline(context, leased.version.label),
      });
      return {
        result: result?.classificationResult,
        modelSpec: { name: servable.name, version: BigInt(leased.version.version), signatureName: servable.signatureName },
      };
    } finally {
      leased.release();
    }
  }

  async regress(request: RegressionRequest, context: CallContext): Promise<RegressionResponse> {
    const servable = servableRequestFrom(request.modelSpec);
    const leased = this.host.lease(servable);
    try {
      checkExampleSignatureName(servable.signatureName);
      const [result] = await inferFromExamples(tracedModel(leased, 'Regress'), request.input, ['regress'], {
        limits: this.limits,
        beforeRun: () => checkDeadline(context, leased.version.label),
      });
      return {
        result: result?.regressionResult,
        modelSpec: { name: servable.name, version: BigInt(leased.version.version), signatureName: servable.signatureName },
      };
    } finally {
      leased.release();
    }
  }

  async multiInference(request: MultiInferenceRequest, context: CallContext): Promise<MultiInferenceResponse> {
    const servable = servableRequestFrom(multiInferenceModelSpec(request));
    const leased = this.host.lease(servable);
    try {
      const tasks = planTasks(request.tasks, servable.name);
      const version = BigInt(leased.version.version);
      const results = await inferFromExamples(tracedModel(leased, 'MultiInference'), request.input, tasks.map((t) => t.method), {
        limits: this.limits,
        beforeRun: () => checkDeadline(context, leased.version.label),
      });
      return {
        results: tasks.map((task, i) => ({
          ...results[i],
          modelSpec: { name: servable.name, version, signatureName: task.signatureName },
        })),
      };
    } finally {
      leased.release();
    }
  }

  /** Same outcome in the gRPC status and in response.status (on failure clients see only the former). */
  async reloadConfig(request: ReloadConfigRequest, context: CallContext): Promise<ReloadConfigResponse> {
    await this.host.applyConfig(request.config ?? {}, context.deadline);
    return {
      status: { errorCode: Code.OK, errorMessage: '' },
      // No counters are registered yet, so every requested metric is absent: TF reports those as 0.
      metric: request.metricNames.map((name) => ({ name, int64ValueIncrease: 0n })),
    };
  }
}
