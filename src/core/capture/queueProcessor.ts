import type { CaptureEvent } from '../types';
import type { IngestResult } from '../api';
import { BankError, LlmError, isAbortError } from '../errors';
import type { EventQueue } from './eventQueue';

export interface ProcessorState {
  pending: number;
  running: boolean;
  paused: boolean;
  /** The last failure that stopped processing; cleared by the next success. */
  error?: string;
  /** When the next automatic retry happens (ISO time). */
  retryAt?: string;
  processed: number;
  failed: number;
}

export interface QueueProcessorOptions {
  queue: EventQueue;
  ingest: (event: CaptureEvent, signal: AbortSignal) => Promise<IngestResult>;
  /**
   * After a crash mid-event: did the previous session already apply it? (Checked against the bank's
   * history so an event is never applied twice.)
   */
  wasApplied?: (event: CaptureEvent, since: string) => boolean;
  onState?: (state: ProcessorState) => void;
  onProcessed?: (event: CaptureEvent, result: IngestResult) => void;
  onFailed?: (event: CaptureEvent, error: string, willRetry: boolean) => void;
  /** Back-off before automatic retries of a retryable failure. */
  retryDelaysMs?: number[];
}

/** Drains an `EventQueue` one event at a time in the background: ingest, then acknowledge. */
export class QueueProcessor {
  private running = false;
  private paused = false;
  private disposed = false;
  private error: string | undefined;
  private retryAt: number | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private processed = 0;
  private failed = 0;
  private abort: AbortController | undefined;
  private drained: Promise<void> = Promise.resolve();

  constructor(private readonly opts: QueueProcessorOptions) {}

  get state(): ProcessorState {
    return {
      pending: this.opts.queue.length,
      running: this.running,
      paused: this.paused,
      error: this.error,
      retryAt: this.retryAt ? new Date(this.retryAt).toISOString() : undefined,
      processed: this.processed,
      failed: this.failed,
    };
  }

  /** Starts draining unless already running, paused or waiting for a retry. */
  kick(): Promise<void> {
    if (this.running || this.paused || this.disposed || this.retryTimer) return this.drained;
    this.drained = this.drain();
    return this.drained;
  }

  /** Retries now, cancelling a scheduled retry. */
  retry(): Promise<void> {
    this.clearRetry();
    this.error = undefined;
    this.attempt = 0;
    return this.kick();
  }

  pause(): void {
    this.paused = true;
    this.abort?.abort();
    this.emit();
  }

  resume(): Promise<void> {
    this.paused = false;
    this.emit();
    return this.kick();
  }

  /** Resolves when the current drain (if any) has stopped. */
  idle(): Promise<void> {
    return this.drained;
  }

  dispose(): void {
    this.disposed = true;
    this.clearRetry();
    this.abort?.abort();
  }

  private async drain(): Promise<void> {
    this.running = true;
    this.emit();
    try {
      const q = this.opts.queue;
      while (!this.paused && !this.disposed && q.length > 0) {
        const [event] = q.peek(1);
        const interrupted = q.interrupted;
        if (interrupted && this.opts.wasApplied?.(event, interrupted.since)) {
          q.ack(event.id);
          this.processed++;
          continue;
        }
        q.markInFlight(event.id);
        this.abort = new AbortController();
        try {
          const result = await this.opts.ingest(event, this.abort.signal);
          q.ack(event.id);
          this.processed++;
          this.error = undefined;
          this.attempt = 0;
          this.opts.onProcessed?.(event, result);
        } catch (err) {
          if (isAbortError(err) || (err instanceof LlmError && err.code === 'CANCELLED') || this.abort.signal.aborted) break;
          const message = err instanceof Error ? err.message : String(err);
          if (isRetryable(err)) {
            this.error = message;
            this.opts.onFailed?.(event, message, true);
            this.scheduleRetry();
            break;
          }
          // The event itself is bad (or the model keeps answering nonsense for it): park it and go on.
          q.deadLetter(event.id, message);
          this.failed++;
          this.opts.onFailed?.(event, message, false);
        } finally {
          this.abort = undefined;
        }
        this.emit();
      }
    } finally {
      this.running = false;
      this.emit();
    }
  }

  private scheduleRetry(): void {
    const delays = this.opts.retryDelaysMs ?? [30_000, 120_000, 600_000];
    const delay = delays[Math.min(this.attempt, delays.length - 1)];
    this.attempt++;
    this.retryAt = Date.now() + delay;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryAt = undefined;
      void this.kick();
    }, delay);
    this.retryTimer.unref?.();
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryAt = undefined;
  }

  private emit(): void {
    this.opts.onState?.(this.state);
  }
}

/** Unreachable endpoint, rate limit, timeouts, a locked bank: wait and retry. Anything else is the event's fault. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof LlmError) return err.retryable;
  if (err instanceof BankError) return err.code === 'LOCKED' || err.code === 'IO';
  return true;
}
