/** Runs `stop` once on SIGTERM or SIGINT, then exits 0 (1 if stopping failed). */
export function exitOnSignal(stop: () => Promise<void>, log: (message: string) => void): void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: finishing in-flight work`);
    stop().then(
      () => process.exit(0),
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

export function logger(role: string): (message: string) => void {
  return (message) => console.error(`[maas ${role}] ${message}`);
}
