import type { ModelSpec } from '@maas/protos';
import { InvalidArgumentError } from '@maas/errors';

export const DEFAULT_SIGNATURE = 'serving_default';

/** Which version a request asks for (shared/spec §6.1). */
export type VersionChoice = { kind: 'latest' } | { kind: 'specific'; version: number } | { kind: 'label'; label: string };

export interface ServableRequest {
  name: string;
  choice: VersionChoice;
  signatureName: string;
}

/** Validates a request's model_spec the way TF Serving does, before any lookup. */
export function servableRequestFrom(spec: ModelSpec | undefined): ServableRequest {
  if (!spec) throw new InvalidArgumentError('Missing ModelSpec');
  if (!spec.name) throw new InvalidArgumentError('ModelSpec has no name specified.');
  const signatureName = spec.signatureName || DEFAULT_SIGNATURE;
  if (spec.version !== undefined) {
    return { name: spec.name, choice: { kind: 'specific', version: Number(spec.version) }, signatureName };
  }
  if (spec.versionLabel !== undefined && spec.versionLabel !== '') {
    return { name: spec.name, choice: { kind: 'label', label: spec.versionLabel }, signatureName };
  }
  return { name: spec.name, choice: { kind: 'latest' }, signatureName };
}

/** TF Serving's rendering of a servable request, used in NOT_FOUND messages. */
export function describeServableRequest(request: Pick<ServableRequest, 'name' | 'choice'>): string {
  switch (request.choice.kind) {
    case 'latest':
      return `Latest(${request.name})`;
    case 'specific':
      return `Specific(${request.name}, ${request.choice.version})`;
    case 'label':
      return `Label(${request.name}, ${request.choice.label})`;
  }
}
