import { createLogger, shutdownTelemetry, type Logger } from '@maas/telemetry';

/** Default bound on a shutdown: in-flight calls get 5 s, batch chunks their lock period; this covers both with room. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

/**
 * Runs `stop` once on SIGTERM or SIGINT, flushes telemetry, then exits 0 (1 if stopping failed).
 * A stop still running after `limitMs` (Redis gone, so nothing can be handed back) exits 1.
 */
export function exitOnSignal(stop: () => Promise<void>, log: (message: string) => void, limitMs = DEFAULT_SHUTDOWN_TIMEOUT_MS): void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: finishing in-flight work`);
    if (Number.isFinite(limitMs)) {
      setTimeout(() => {
        log(`shutdown did not finish within ${limitMs} ms (is Redis reachable?): exiting`);
        process.exit(1);
      }, limitMs).unref();
    }
    stop().then(
      () => shutdownTelemetry().finally(() => process.exit(0)),
      (error) => {
        log(`shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** The one machine-readable line a role prints when it is ready (scripts and tests read it). */
export function announceReady(details: Record<string, unknown>): void {
  console.log(JSON.stringify({ event: 'ready', ...details }));
}

/** The role's structured log: one JSON line per event on stderr (see @maas/telemetry createLogger). */
export function logger(role: string): Logger {
  return createLogger(role);
}
