import fc from 'fast-check';

/**
 * One thing the fuzzer attacks: a property that must hold for every generated input, with
 * whatever it needs running around it (servers, loaded models). `setup` may start processes;
 * `teardown` stops them.
 */
/** Each target's inputs are its own business, so its property is typed loosely here. */
export type FuzzProperty = fc.IRawProperty<any, boolean>;

export interface FuzzTarget<Context = unknown> {
  name: string;
  setup(): Promise<Context>;
  property(context: Context): FuzzProperty;
  teardown(context: Context): Promise<void>;
}

/** A budget: runs, or wall time (whichever ends first), and a seed to replay a failure. */
export interface FuzzBudget {
  numRuns: number;
  timeLimitMs?: number;
  seed?: number;
}

/** A run too slow to be a bug-free answer: fast-check fails it as a hang. */
export const RUN_TIMEOUT_MS = 10_000;

export interface FuzzResult {
  target: string;
  runs: number;
  failed: boolean;
  /** fast-check's report: the seed, the path and the shrunk counterexample. */
  report?: string;
}

export async function runTarget<C>(target: FuzzTarget<C>, budget: FuzzBudget): Promise<FuzzResult> {
  const context = await target.setup();
  try {
    const details = await fc.check(target.property(context), {
      numRuns: budget.numRuns,
      seed: budget.seed,
      timeout: RUN_TIMEOUT_MS,
      ...(budget.timeLimitMs ? { interruptAfterTimeLimit: budget.timeLimitMs, markInterruptAsFailure: false } : {}),
    });
    return { target: target.name, runs: details.numRuns, failed: details.failed, report: details.failed ? `${fc.defaultReportMessage(details)}\n${String(details.errorInstance)}` : undefined };
  } finally {
    await target.teardown(context);
  }
}
