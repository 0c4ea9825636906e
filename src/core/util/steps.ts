// Long loops written once as generators that `yield` between slices of work, then run either at
// once (sync callers) or with a turn of the event loop between slices (opening a large bank must
// not freeze the extension host for seconds).

/** Resolves after the event loop has had a turn (timers, I/O, other extensions' work). */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs a stepped computation to the end without pausing. */
export function runSteps<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Runs a stepped computation, giving the event loop a turn at every step. */
export async function runStepsYielding<T>(steps: Generator<void, T>): Promise<T> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await yieldToEventLoop();
  }
}
