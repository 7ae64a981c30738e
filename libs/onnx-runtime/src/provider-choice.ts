import ort from 'onnxruntime-node';
import { usableProviders } from './execution-providers.js';
import { sessionOptionsFor, type RuntimeOptions } from './runtime-options.js';
import { signatureFromSession } from './signature.js';
import { zeroFeeds } from './zero-feeds.js';

export const AUTO_PROVIDER = 'auto';
const TIMED_RUNS = 5;
const TOLERANCE = 1e-3;

function agrees(reference: ort.InferenceSession.OnnxValueMapType, candidate: ort.InferenceSession.OnnxValueMapType): boolean {
  return Object.entries(reference).every(([name, tensor]) => {
    const other = candidate[name];
    if (!other || other.data.length !== tensor.data.length) return false;
    for (let i = 0; i < tensor.data.length; i++) {
      const a = Number(tensor.data[i]);
      const b = Number(other.data[i]);
      if (Math.abs(a - b) > TOLERANCE * (1 + Math.abs(a))) return false;
    }
    return true;
  });
}

async function medianRunMs(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < TIMED_RUNS; i++) {
    const start = performance.now();
    await session.run(feeds);
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(TIMED_RUNS / 2)]!;
}

/**
 * `auto`: tries every usable provider on a warm-up input and keeps the fastest whose outputs agree
 * with cpu's within a tolerance, so a small model that is slower on the GPU stays on cpu. The
 * result lists cpu last, for the nodes a GPU provider cannot take.
 */
export async function chooseProvider(model: Uint8Array, options: RuntimeOptions): Promise<string[]> {
  const candidates = await usableProviders();
  if (candidates.length === 1) return ['cpu'];
  let reference: ort.InferenceSession.OnnxValueMapType | undefined;
  let best = { provider: 'cpu', ms: Infinity };
  for (const provider of [...candidates].reverse()) {
    const session = await ort.InferenceSession.create(model, sessionOptionsFor({ ...options, executionProviders: provider === 'cpu' ? ['cpu'] : [provider, 'cpu'] }));
    try {
      const feeds = zeroFeeds(signatureFromSession(session, 'probe'));
      const outputs = await session.run(feeds);
      if (provider === 'cpu') reference = outputs;
      else if (!reference || !agrees(reference, outputs)) continue;
      const ms = await medianRunMs(session, feeds);
      if (ms < best.ms) best = { provider, ms };
    } finally {
      await session.release();
    }
  }
  return best.provider === 'cpu' ? ['cpu'] : [best.provider, 'cpu'];
}
