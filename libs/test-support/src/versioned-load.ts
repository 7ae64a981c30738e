/** A load started by versionedLoad: what it saw so far, and how to end it. */
export interface VersionedLoad {
  /** Answers per model version. */
  seen: Map<string, number>;
  /** The message of every failed call. */
  failures: string[];
  /** Lets each client finish its call in flight, then resolves. */
  stop(): Promise<void>;
}

/**
 * `clients` closed-loop callers of `call(i)` (i counts each caller's calls; at most 100,000) until
 * stopped. `call` checks its answer and returns the version that gave it; a throw counts as a
 * failure. For tests that a version switch under load fails nothing.
 */
export function versionedLoad(clients: number, call: (i: number) => Promise<string>): VersionedLoad {
  const seen = new Map<string, number>();
  const failures: string[] = [];
  let running = true;
  const client = async () => {
    for (let i = 0; running && i < 100_000; i++) {
      try {
        const version = await call(i);
        seen.set(version, (seen.get(version) ?? 0) + 1);
      } catch (error) {
        failures.push(String((error as Error).message));
      }
    }
  };
  const done = Promise.all(Array.from({ length: clients }, client));
  return {
    seen,
    failures,
    async stop() {
      running = false;
      await done;
    },
  };
}
