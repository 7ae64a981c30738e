import ort from 'onnxruntime-node';

/** A 4-float Identity graph: small enough to build a session on any provider in milliseconds. */
const PROBE_MODEL = Buffer.from(
  'CAgSEW1hYXMtdGVzdC1zdXBwb3J0OlQKHAoBeBIBeRoKSWRlbnRpdHlfMCIISWRlbnRpdHkSCnRlc3RfZ3JhcGhaEwoBeBIOCgwIARIICgIIAQoCCARiEwoBeRIOCgwIARIICgIIAQoCCARCBAoAEBE=',
  'base64',
);

export interface ProviderProbe {
  name: string;
  usable: boolean;
  /** Why not, when not (e.g. no Vulkan loader, no adapter, provider not bundled). */
  reason?: string;
}

/**
 * Which execution providers work on this host: each one onnxruntime lists is tried on a tiny
 * model, because "bundled" only means compiled in — webgpu also needs a Vulkan loader and an
 * adapter, cuda needs libraries we do not ship.
 */
export async function probeProviders(): Promise<ProviderProbe[]> {
  const probes: ProviderProbe[] = [];
  for (const backend of ort.listSupportedBackends()) {
    if (backend.name === 'cpu') {
      probes.push({ name: 'cpu', usable: true });
      continue;
    }
    if (!backend.bundled) {
      probes.push({ name: backend.name, usable: false, reason: 'not bundled with onnxruntime-node' });
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(PROBE_MODEL, { executionProviders: [backend.name] });
      await session.run({ x: new ort.Tensor('float32', new Float32Array(4), [1, 4]) });
      await session.release();
      probes.push({ name: backend.name, usable: true });
    } catch (error) {
      probes.push({ name: backend.name, usable: false, reason: (error as Error).message.split('\n')[0] });
    }
  }
  return probes;
}

let usable: Promise<string[]> | undefined;

/** Usable provider names, probed once per process; GPU ones first, cpu last. */
export function usableProviders(): Promise<string[]> {
  usable ??= probeProviders().then((probes) =>
    probes.filter((p) => p.usable).map((p) => p.name).sort((a, b) => (a === 'cpu' ? 1 : b === 'cpu' ? -1 : 0)),
  );
  return usable;
}
