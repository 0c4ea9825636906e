/**
 * Runs jobs one at a time in arrival order. A job whose signal fires while it waits is dropped
 * without running, so a client that gave up costs no model time.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waitingCount = 0;
  private running = false;

  get waiting(): number {
    return this.waitingCount;
  }

  get busy(): boolean {
    return this.running;
  }

  run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.waitingCount++;
    const result = this.tail.then(async () => {
      this.waitingCount--;
      if (signal?.aborted) throw abortError();
      this.running = true;
      try {
        return await job();
      } finally {
        this.running = false;
      }
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every job queued so far has finished. */
  async idle(): Promise<void> {
    let seen: Promise<unknown>;
    do {
      seen = this.tail;
      await seen;
    } while (seen !== this.tail);
  }
}

export function abortError(): Error {
  const err = new Error('The request was cancelled.');
  err.name = 'AbortError';
  return err;
}
