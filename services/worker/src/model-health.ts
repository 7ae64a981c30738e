import type { GrpcHealth } from '@maas/telemetry';
import type { ModelHost } from './model-host.js';

/**
 * Mirrors the host's models into grpc.health.v1.Health: each model's name is SERVING while it has
 * an AVAILABLE version (versions are warmed before they become AVAILABLE), and the server is
 * SERVING only when every wanted model is (`wanted` undefined: nothing assigned yet, so not ready).
 */
export function reportModelHealth(health: GrpcHealth, host: ModelHost, wanted: readonly string[] | undefined): void {
  const ready = (name: string) => (host.model(name)?.availableVersions().length ?? 0) > 0;
  const names = new Set([...health.models, ...host.servedModels().map((m) => m.name), ...(wanted ?? [])]);
  for (const name of names) health.setModel(name, ready(name));
  health.setServing(wanted !== undefined && wanted.every(ready));
}
