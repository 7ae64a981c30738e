// The JSON contract between the orchestrator (bench/run.ts) and the load-generator child.
import type { LatencySummary } from '../stats.js';
import type { WorkloadRef } from '../workloads.js';

export type TargetSpec =
  /** A PredictionService: maas, or the echo server (which answers with raw bytes, so no decode). */
  | { kind: 'grpc'; address: string; echo?: boolean }
  /** TF Serving's REST API: POST /v1/models/{model}:predict. */
  | { kind: 'rest'; host: string; port: number };

export type LoadShape =
  /** N clients, each sending its next request when the previous one answered. */
  | { mode: 'closed'; concurrency: number }
  /** Requests at a fixed arrival rate whatever the answers do; latency counts from the scheduled send time. */
  | { mode: 'open'; ratePerSec: number; arrival: 'poisson' | 'uniform'; maxOutstanding: number };

export interface LoadJob {
  id: string;
  target: TargetSpec;
  workload: WorkloadRef;
  /** Items per request (the batch dimension the client sends). */
  batch: number;
  load: LoadShape;
  warmupSeconds: number;
  rounds: number;
  roundSeconds: number;
  /** Bounds each round by count as well as by time. */
  maxRequestsPerRound: number;
  /** Per-request deadline. */
  timeoutMs: number;
}

export interface RoundResult {
  seconds: number;
  requests: number;
  items: number;
  errors: number;
  /** Open loop only: arrivals skipped because maxOutstanding requests were already in flight. */
  dropped: number;
  latency: LatencySummary;
  firstError?: string;
}

export interface LoadResult {
  id: string;
  /** 'unavailable': the target does not offer this API (e.g. REST answered 404). */
  status: 'ok' | 'unavailable' | 'error';
  note?: string;
  requestBytes: number;
  responseBytes: number;
  items: number;
  /** Requests sent before the measured rounds (probe and warm-up), for per-request CPU accounting. */
  unmeasuredRequests: number;
  rounds: RoundResult[];
}
