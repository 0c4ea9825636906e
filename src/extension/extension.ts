import * as vscode from 'vscode';
import { redactSecrets } from '../core/privacy/redact';
import { ProjectMemory } from './projectMemory';
import { CaptureService, type CaptureServiceOptions } from './capture/captureService';
import { registerCommands } from './commands';
import { createMemoryParticipant } from './chat/memoryParticipant';
import { EndpointChatProvider } from './models/endpointChatProvider';
import { MemoryPanelProvider } from './sidePanel/memoryPanelProvider';
import { LocalModelService, type LocalModelTestOptions } from './localModel/localModelService';
import { registerAgentTools } from './tools';
import { FreshnessService, readFreshnessSettings } from './freshness/freshnessService';
import { InstructionsService } from './instructions/instructionsService';
import { SourceDocuments } from './sources/sourceDocuments';

/** What `activate` returns: used by the tests and by other extensions that want the bank. */
export interface ProjectMemoryApi {
  pm: ProjectMemory;
  capture: CaptureService;
  panel: MemoryPanelProvider;
  localModel: LocalModelService;
  freshness: FreshnessService;
  instructions: InstructionsService;
}

let current: ProjectMemoryApi | undefined;

/** Test hook: capture timings (production uses the defaults). */
export let captureOptionsForTests: CaptureServiceOptions | undefined;
export function setCaptureOptionsForTests(opts: CaptureServiceOptions | undefined): void {
  captureOptionsForTests = opts;
}

/** Test hook: the built-in local model's catalog entry and server script. */
export let localModelOptionsForTests: LocalModelTestOptions | undefined;
export function setLocalModelOptionsForTests(opts: LocalModelTestOptions | undefined): void {
  localModelOptionsForTests = opts;
}

// Activation only wires things up: the bank, the engine and the openai client load on first use.
export function activate(context: vscode.ExtensionContext): ProjectMemoryApi {
  const log = redactingLog(vscode.window.createOutputChannel('Project Memory', { log: true }));
  const localModel = new LocalModelService(context, log, localModelOptionsForTests);
  const pm = new ProjectMemory(context, log, localModel);
  const capture = new CaptureService(pm, captureOptionsForTests);
  const freshness = new FreshnessService(pm);
  const instructions = new InstructionsService(pm);
  const sources = new SourceDocuments(pm);
  const panel = new MemoryPanelProvider(context.extensionUri, () => pm.getBank(), log, () => readFreshnessSettings().expireAfterDays);
  context.subscriptions.push(
    log,
    { dispose: () => void pm.dispose() },
    { dispose: () => void localModel.dispose() },
    capture,
    freshness,
    instructions,
    sources,
    panel,
    vscode.window.registerWebviewViewProvider(MemoryPanelProvider.viewType, panel, { webviewOptions: { retainContextWhenHidden: false } }),
    ...registerCommands({ pm, capture, freshness, instructions, sources, revealMemory: (id) => panel.reveal(id) }),
    ...localModel.registerCommands(),
  );
  if ((vscode.chat as Partial<typeof vscode.chat> | undefined)?.createChatParticipant) context.subscriptions.push(createMemoryParticipant(pm, capture));
  // Hosts older than 1.104 (or without chat) lack these APIs; the rest of the extension still works.
  if ((vscode.lm as Partial<typeof vscode.lm> | undefined)?.registerLanguageModelChatProvider) {
    const provider = new EndpointChatProvider({ resolve: (interactive) => pm.endpointIfAllowed(interactive), onDidChange: pm.onDidChangeEndpoint, log });
    context.subscriptions.push(vscode.lm.registerLanguageModelChatProvider('project-memory', provider));
  }
  context.subscriptions.push(...registerAgentTools(pm));
  capture.start();
  freshness.start();
  instructions.start();
  // The user chose the built-in model before: start it (never downloads without the command).
  void localModel.startInBackground();
  log.info(`Project Memory activated (workspace ${vscode.workspace.isTrusted ? 'trusted' : 'untrusted: capture and model calls are off'}).`);
  current = { pm, capture, panel, localModel, freshness, instructions };
  return current;
}

export async function deactivate(): Promise<void> {
  const c = current;
  current = undefined;
  if (!c) return;
  await c.capture.watcher.flushSaves().catch(() => undefined);
  c.capture.flush();
  // The model server is a child process: stop it with the extension (while the bank closes).
  await Promise.all([c.pm.dispose(), c.localModel.dispose()]);
}

/**
 * The log passes the privacy boundary too: an error can quote a server's reply or an event's text,
 * so every line is redacted before it is written.
 */
function redactingLog(channel: vscode.LogOutputChannel): vscode.LogOutputChannel {
  const clean = (v: unknown): unknown => (typeof v === 'string' ? redactSecrets(v).text : v instanceof Error ? redactSecrets(v.stack ?? v.message).text : v);
  const wrap =
    (fn: (message: string, ...args: unknown[]) => void) =>
    (message: string | Error, ...args: unknown[]) =>
      fn.call(channel, clean(message) as string, ...args.map(clean));
  return new Proxy(channel, {
    get(target, prop, receiver) {
      if (prop === 'info' || prop === 'warn' || prop === 'debug' || prop === 'trace' || prop === 'error' || prop === 'appendLine' || prop === 'append' || prop === 'replace') {
        return wrap((target[prop] as (m: string, ...a: unknown[]) => void).bind(target));
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
