import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EventQueue } from '../../core/capture/eventQueue';
import { QueueProcessor, type ProcessorState } from '../../core/capture/queueProcessor';
import { formatChatTurn, makeEvent } from '../../core/capture/eventFormat';
import { LlmError } from '../../core/errors';
import { redactSecrets } from '../../core/privacy/redact';
import type { CaptureEvent, SourceKind } from '../../core/types';
import type { ProjectMemory } from '../projectMemory';
import { readCaptureSettings, SECTION } from '../settings';
import { CaptureController, DEFAULT_TIMINGS, type CaptureTimings } from './captureController';

const PAUSED_KEY = 'projectMemory.capturePaused';

export interface CaptureServiceOptions {
  timings?: CaptureTimings;
  /** Events are appended to the queue in batches after this quiet time. */
  batchDelayMs?: number;
  retryDelaysMs?: number[];
}

/**
 * Capture end to end: the controller's events are redacted, batched and appended to the durable
 * queue in the bank folder; a background processor feeds them to the engine. A status bar item
 * shows the queue, a pause, or an error with a retry.
 */
export class CaptureService implements vscode.Disposable {
  private queue: EventQueue | undefined;
  private processor: QueueProcessor | undefined;
  private batch: CaptureEvent[] = [];
  private batchTimer: NodeJS.Timeout | undefined;
  private readonly controller: CaptureController;
  private readonly statusBar: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly batchDelayMs: number;
  private lastState: ProcessorState | undefined;

  constructor(
    private readonly pm: ProjectMemory,
    private readonly opts: CaptureServiceOptions = {},
  ) {
    this.batchDelayMs = opts.batchDelayMs ?? 2000;
    this.controller = new CaptureController((kind, text, ref) => this.record(kind, text, ref), pm.context.workspaceState, pm.log, opts.timings ?? DEFAULT_TIMINGS);
    this.statusBar = vscode.window.createStatusBarItem('projectMemory.capture', vscode.StatusBarAlignment.Right, 50);
    this.statusBar.name = vscode.l10n.t('Project Memory Capture');
    this.statusBar.command = 'projectMemory.captureMenu';
    this.disposables.push(
      this.statusBar,
      this.controller,
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.start()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.capture.enabled`)) this.start();
      }),
    );
  }

  get paused(): boolean {
    return this.pm.context.workspaceState.get<boolean>(PAUSED_KEY, false);
  }

  /** Whether new workspace activity is being captured right now. */
  get active(): boolean {
    return this.pm.isTrusted && readCaptureSettings().enabled && !this.paused;
  }

  get pending(): number {
    return (this.queue?.length ?? 0) + this.batch.length;
  }

  get state(): ProcessorState | undefined {
    return this.processor?.state;
  }

  /** The capture controller (tests drive its checks directly). */
  get watcher(): CaptureController {
    return this.controller;
  }

  /** Starts or stops capture to match trust, settings and the pause flag; resumes a queue left by the last session. */
  start(): void {
    if (this.active) this.controller.start();
    else this.controller.stop();
    if (this.pm.isTrusted && !this.paused && fs.existsSync(path.join(this.pm.bankFolder, 'capture-queue.jsonl'))) {
      void this.getProcessor().kick();
    }
    this.updateStatus();
  }

  /** Redacts, wraps and batches one captured text. Ignored while capture is off. */
  record(kind: SourceKind, text: string, ref?: string): CaptureEvent | undefined {
    if (!this.active) return undefined;
    const redacted = redactSecrets(text);
    if (redacted.findings.length) this.pm.log.info(`Redacted ${redacted.findings.length} secret(s) from a ${kind} event.`);
    const event = makeEvent(kind, redacted.text, ref ? redactSecrets(ref).text : undefined);
    this.batch.push(event);
    if (!this.batchTimer) {
      this.batchTimer = setTimeout(() => this.flush(), this.batchDelayMs);
      this.batchTimer.unref?.();
    }
    this.updateStatus();
    return event;
  }

  /** A finished @memory turn; called after the reply so it never delays it. */
  recordChatTurn(question: string, answer: string, answerId: string): void {
    if (!readCaptureSettings().chat || !answer.trim()) return;
    this.record('chat', formatChatTurn(question, answer), answerId);
  }

  /** Writes the batched events to the queue and starts processing. */
  flush(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    if (!this.batch.length) return;
    const events = this.batch;
    this.batch = [];
    try {
      this.getQueue().append(events);
    } catch (err) {
      this.batch.unshift(...events);
      this.pm.log.error(`Could not write the capture queue: ${String(err)}`);
      return;
    }
    if (!this.paused && this.pm.isTrusted) void this.getProcessor().kick();
    this.updateStatus();
  }

  async pause(): Promise<void> {
    await this.pm.context.workspaceState.update(PAUSED_KEY, true);
    this.flush();
    this.processor?.pause();
    this.controller.stop();
    this.updateStatus();
  }

  async resume(): Promise<void> {
    await this.pm.context.workspaceState.update(PAUSED_KEY, false);
    this.start();
    if (this.pm.isTrusted) await this.getProcessor().resume();
    this.updateStatus();
  }

  retry(): Promise<void> {
    this.flush();
    return this.getProcessor().retry();
  }

  /**
   * Lets go of the capture queue while `fn` rewrites it (Scrub Secrets): pending events are written
   * first, processing stops, and the queue is opened afresh afterwards.
   */
  async withQueueReleased<T>(fn: () => Promise<T>): Promise<T> {
    this.flush();
    const processor = this.processor;
    processor?.dispose();
    await processor?.idle();
    this.processor = undefined;
    this.queue = undefined;
    try {
      return await fn();
    } finally {
      this.start();
    }
  }

  /** Resolves when the background processor has nothing in hand. */
  async idle(): Promise<void> {
    await this.processor?.idle();
  }

  private getQueue(): EventQueue {
    if (!this.queue) {
      this.queue = EventQueue.open(this.pm.bankFolder);
      if (this.queue.skippedOnOpen) this.pm.log.warn(`${this.queue.skippedOnOpen} damaged capture event(s) were moved to ${this.queue.failedPath}.`);
    }
    return this.queue;
  }

  private getProcessor(): QueueProcessor {
    if (!this.processor) {
      const queue = this.getQueue();
      this.processor = new QueueProcessor({
        queue,
        retryDelaysMs: this.opts.retryDelaysMs,
        ingest: async (event, signal) => {
          const engine = await this.pm.getEngine(undefined, false);
          const result = await engine.ingest(event, signal);
          // Unreadable model output is a failure, not an empty event: the queue parks the event in
          // capture-failed.jsonl (Retry Failed Captures) and says why, instead of dropping it silently.
          if (result.unusable) throw new LlmError('BAD_OUTPUT', `The model's answer for this ${event.source.kind} event could not be used; ${result.unusable}.`, false);
          return result;
        },
        wasApplied: (event, since) => {
          const bank = this.pm.peekBankSync();
          return !!bank?.history().some((r) => r.time >= since && r.source?.kind === event.source.kind && r.source?.ref === event.source.ref);
        },
        onState: (s) => {
          this.lastState = s;
          this.updateStatus();
        },
        onProcessed: (event, res) => {
          const ops = res.operations.map((o) => o.type).join(', ') || 'no facts';
          this.pm.log.info(`Captured ${event.source.kind} event → ${res.facts.length} fact(s): ${ops}`);
          if (res.skipped) this.pm.log.info(`Skipped the rest of that ${event.source.kind} event: ${res.skipped}`);
        },
        onFailed: (event, error, willRetry) => {
          if (willRetry) this.pm.log.warn(`Processing a ${event.source.kind} event failed, will retry: ${error}`);
          else this.pm.log.error(`A ${event.source.kind} event could not be processed and was set aside in ${queue.failedPath}: ${error}`);
        },
      });
    }
    return this.processor;
  }

  private updateStatus(): void {
    const s = this.lastState;
    const pending = this.pending;
    const bar = this.statusBar;
    if (!this.pm.isTrusted) {
      bar.text = '$(shield) ' + vscode.l10n.t('Memory');
      bar.tooltip = vscode.l10n.t('Project Memory: capture is off until you trust this workspace.');
    } else if (s?.error) {
      bar.text = '$(warning) ' + vscode.l10n.t('Memory {0}', pending);
      bar.tooltip = vscode.l10n.t('Project Memory: processing captured events failed: {0}. Click to retry.', s.error);
    } else if (this.paused) {
      bar.text = '$(debug-pause) ' + vscode.l10n.t('Memory paused');
      bar.tooltip = vscode.l10n.t('Project Memory: capture is paused ({0} queued). Click to resume.', pending);
    } else if (!readCaptureSettings().enabled) {
      bar.text = '$(circle-slash) ' + vscode.l10n.t('Memory');
      bar.tooltip = vscode.l10n.t('Project Memory: capture is turned off (projectMemory.capture.enabled).');
    } else if (s?.running || pending > 0) {
      bar.text = `$(sync${s?.running ? '~spin' : ''}) ` + vscode.l10n.t('Memory {0}', pending);
      bar.tooltip = vscode.l10n.t('Project Memory: {0} captured event(s) waiting to be remembered.', pending);
    } else {
      bar.text = '$(database) ' + vscode.l10n.t('Memory');
      bar.tooltip = vscode.l10n.t('Project Memory: capturing workspace activity.');
    }
    bar.show();
  }

  dispose(): void {
    this.flush();
    this.processor?.dispose();
    clearTimeout(this.batchTimer);
    for (const d of this.disposables) d.dispose();
  }
}
