import * as vscode from 'vscode';
import type { AppliedOperation } from '../../core/api';
import type { HistoryRecord, Memory } from '../../core/types';
import type { ProjectMemory } from '../projectMemory';
import type { CaptureService } from '../capture/captureService';
import { actionsFor, errorMessage, isCancellation } from '../errors';
import { readAnswerContextTokens, readAnswerTopK } from '../settings';
import { withAbortSignal } from '../ui';
import { answerWithFreshness } from '../../core/evidence/freshness';
import { describeSource } from '../../core/provenance';
import { clipLine } from '../../core/util/text';

export const PARTICIPANT_ID = 'project-memory.memory';

/** What a `@memory` answer leaves in the chat result, for feedback and followups. */
export interface MemoryChatMetadata {
  command?: string;
  answerId?: string;
  memoryIds?: string[];
  question?: string;
  answer?: string;
}

/** A command link that runs `command` on one memory. */
function memoryCommandUri(command: string, memoryId: string): vscode.Uri {
  return vscode.Uri.parse(`command:${command}?${encodeURIComponent(JSON.stringify([memoryId]))}`);
}

export function revealUri(memoryId: string): vscode.Uri {
  return memoryCommandUri('projectMemory.revealMemory', memoryId);
}

/** A command link that opens where a memory came from (its file, or the kept capture event). */
export function sourceUri(memoryId: string): vscode.Uri {
  return memoryCommandUri('projectMemory.openMemorySource', memoryId);
}

function short(text: string, max = 80): string {
  return clipLine(text, max);
}

/**
 * Markdown link text that reveals a memory in the side panel. It must go out inside one trusted
 * MarkdownString (see `trusted`): VS Code renders a command anchor with the command id as its label
 * and does not run it, and separate markdown parts render as separate blocks.
 */
function revealLink(memoryId: string, label: string): string {
  return `[${esc(label)}](${revealUri(memoryId).toString()})`;
}

/** Markdown whose only enabled commands reveal a memory and open its source. */
function trusted(markdown: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString(markdown);
  md.isTrusted = { enabledCommands: ['projectMemory.revealMemory', 'projectMemory.openMemorySource'] };
  return md;
}

/** Markdown-safe inline text. */
function esc(text: string): string {
  return text.replace(/([\\`*_{}[\]<>#|])/g, '\\$1');
}

export function createMemoryParticipant(pm: ProjectMemory, capture: CaptureService | undefined): vscode.ChatParticipant {
  const handler: vscode.ChatRequestHandler = (request, context, stream, token) => handleRequest(pm, capture, request, context, stream, token);
  const participant = vscode.chat.createChatParticipant(PARTICIPANT_ID, handler);
  participant.iconPath = vscode.Uri.joinPath(pm.context.extensionUri, 'media', 'icon.png');
  participant.followupProvider = {
    provideFollowups(result: vscode.ChatResult): vscode.ChatFollowup[] {
      const meta = result.metadata as MemoryChatMetadata | undefined;
      const ids = meta?.memoryIds ?? [];
      if (!ids.length || meta?.command === 'history') return [];
      return [{ prompt: ids.join(' '), command: 'history', label: vscode.l10n.t('Show history of cited memories') }];
    },
  };
  participant.onDidReceiveFeedback((fb) => void recordFeedback(pm, fb));
  return participant;
}

export async function recordFeedback(pm: ProjectMemory, fb: vscode.ChatResultFeedback): Promise<void> {
  const meta = fb.result.metadata as MemoryChatMetadata | undefined;
  if (!meta?.answerId) return;
  try {
    const bank = await pm.getBank();
    await bank.side.recordFeedback({
      answerId: meta.answerId,
      kind: fb.kind === vscode.ChatResultFeedbackKind.Helpful ? 'helpful' : 'unhelpful',
      question: meta.question,
      answer: meta.answer,
      memoryIds: meta.memoryIds ?? [],
      time: new Date().toISOString(),
    });
  } catch (err) {
    pm.log.error(`Recording chat feedback failed: ${errorMessage(err)}`);
  }
}

export async function handleRequest(
  pm: ProjectMemory,
  capture: CaptureService | undefined,
  request: vscode.ChatRequest,
  _context: vscode.ChatContext,
  stream: vscode.ChatResponseStream,
  token: vscode.CancellationToken,
): Promise<vscode.ChatResult> {
  const prompt = request.prompt.trim();
  return withAbortSignal(token, async (signal) => {
    try {
      switch (request.command) {
        case 'remember':
          return await remember(pm, prompt, request, stream, signal);
        case 'forget':
          return await forget(pm, prompt, stream);
        case 'search':
          return await search(pm, prompt, stream, signal);
        case 'history':
          return await history(pm, prompt, stream, signal);
        default:
          return await answer(pm, capture, prompt, request, stream, signal);
      }
    } catch (err) {
      if (isCancellation(err) || token.isCancellationRequested) return { metadata: { command: request.command } };
      pm.log.error(`@memory ${request.command ?? 'question'} failed: ${errorMessage(err)}`);
      for (const a of actionsFor(err)) stream.button({ title: a.title, command: a.command, arguments: a.args });
      return { errorDetails: { message: errorMessage(err) }, metadata: { command: request.command } };
    }
  });
}

async function answer(
  pm: ProjectMemory,
  capture: CaptureService | undefined,
  question: string,
  request: vscode.ChatRequest,
  stream: vscode.ChatResponseStream,
  signal: AbortSignal,
): Promise<vscode.ChatResult> {
  if (!question) {
    stream.markdown(vscode.l10n.t('Ask a question about this project, or use /remember, /forget, /search or /history.'));
    return { metadata: {} };
  }
  stream.progress(vscode.l10n.t('Searching project memories…'));
  const engine = await pm.getEngine(request.model);
  const bank = await pm.getBank();
  const res = await answerWithFreshness(engine, question, {
    topK: readAnswerTopK(),
    contextTokens: readAnswerContextTokens(),
    signal,
    onRetrieved: (hits) => stream.progress(vscode.l10n.t('Read {0} related memories; answering…', hits.length)),
    onAnswerDelta: (d) => stream.markdown(d),
  });
  signal.throwIfAborted();
  if (res.citations.length) {
    stream.markdown('\n\n' + vscode.l10n.t('**Memories used:**') + '\n');
    res.citations.forEach((m, i) => {
      const review = res.needsReview.get(m.id);
      const src = bank.sourceOf(m.id);
      const from = src ? ` — ${vscode.l10n.t('from')} [${esc(describeSource(src))}](${sourceUri(m.id).toString()})` : '';
      stream.markdown(trusted(`${i + 1}. ${revealLink(m.id, short(m.text))}${from}\n`));
      if (review) stream.markdown(`   ⚠ ${esc(short(review, 200))}\n`);
      const file = sourceFileUri(m);
      if (file) stream.reference(file);
    });
  }
  const memoryIds = res.citations.map((m) => m.id);
  // Capture the turn after the reply is complete, off the reply's path.
  if (capture) setImmediate(() => capture.recordChatTurn(question, res.answer, res.answerId));
  const metadata: MemoryChatMetadata = { answerId: res.answerId, memoryIds, question, answer: res.answer.slice(0, 4000) };
  return { metadata };
}

/** A memory captured from a file save points at that file. */
function sourceFileUri(m: Memory): vscode.Uri | undefined {
  if ((m.source.kind !== 'save' && m.source.kind !== 'diagnostic') || !m.source.ref) return undefined;
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? vscode.Uri.joinPath(folder.uri, m.source.ref) : undefined;
}

export function describeOperation(op: AppliedOperation): string {
  const tag = `**${op.type}**`;
  const suffix = op.held ? ' ' + vscode.l10n.t('(held for your approval in the Memories panel)') : op.rejected ? ' ' + vscode.l10n.t('(rejected: {0})', op.rejected) : '';
  switch (op.type) {
    case 'ADD':
      return `${tag} ${esc(op.after ?? op.fact)}${suffix}`;
    case 'UPDATE':
      return `${tag} ${esc(op.before ?? '')} → ${esc(op.after ?? '')}${suffix}`;
    case 'DELETE':
      return `${tag} ${esc(op.before ?? '')}${suffix}`;
    default:
      return `${tag} ${vscode.l10n.t('already known: {0}', esc(op.before ?? op.after ?? op.fact))}${suffix}`;
  }
}

async function remember(pm: ProjectMemory, text: string, request: vscode.ChatRequest, stream: vscode.ChatResponseStream, signal: AbortSignal): Promise<vscode.ChatResult> {
  if (!text) {
    stream.markdown(vscode.l10n.t('Tell me what to remember, e.g. `/remember We deploy with blue-green on Fridays`.'));
    return { metadata: { command: 'remember' } };
  }
  stream.progress(vscode.l10n.t('Comparing with related memories…'));
  const engine = await pm.getEngine(request.model);
  const res = await engine.remember(text, { kind: 'chat', ref: 'remember' }, signal);
  if (!res.operations.length) stream.markdown(vscode.l10n.t('The memory manager made no change.'));
  for (const op of res.operations) {
    const show = op.memoryId && op.type !== 'DELETE' ? ' ' + revealLink(op.memoryId, vscode.l10n.t('show')) : '';
    stream.markdown(trusted(`- ${describeOperation(op)}${op.reason ? ` — _${esc(op.reason)}_` : ''}${show}\n`));
  }
  if (res.operations.some((o) => o.type !== 'NOOP' && !o.held && !o.rejected)) {
    stream.button({ title: vscode.l10n.t('Undo'), command: 'projectMemory.undo' });
  }
  const memoryIds = res.operations.map((o) => o.memoryId).filter((id): id is string => !!id);
  return { metadata: { command: 'remember', memoryIds } };
}

async function forget(pm: ProjectMemory, target: string, stream: vscode.ChatResponseStream): Promise<vscode.ChatResult> {
  if (!target) {
    stream.markdown(vscode.l10n.t('Say what to forget: a memory id or some of its text.'));
    return { metadata: { command: 'forget' } };
  }
  const bank = await pm.getBank();
  const byId = bank.get(target);
  if (byId && byId.status === 'active') {
    await bank.delete(byId.id, 'forgotten via @memory /forget');
    stream.markdown(vscode.l10n.t('Forgot: {0}', esc(byId.text)) + '\n');
    stream.button({ title: vscode.l10n.t('Undo'), command: 'projectMemory.undo' });
    return { metadata: { command: 'forget', memoryIds: [byId.id] } };
  }
  const hits = await bank.search(target, { topK: 5 });
  if (!hits.length) {
    stream.markdown(vscode.l10n.t('No memory matches "{0}".', esc(target)));
    return { metadata: { command: 'forget' } };
  }
  // Delete straight away only when the words point at exactly one memory; otherwise let the user pick.
  const needle = target.toLowerCase();
  const literal = hits.filter((h) => h.memory.text.toLowerCase().includes(needle));
  if (literal.length === 1) {
    const m = literal[0].memory;
    stream.markdown(vscode.l10n.t('Best match: {0}', esc(m.text)) + '\n\n');
    await bank.delete(m.id, 'forgotten via @memory /forget');
    stream.markdown(vscode.l10n.t('Forgotten. It stays in the history and can be restored.') + '\n');
    stream.button({ title: vscode.l10n.t('Undo'), command: 'projectMemory.undo' });
    return { metadata: { command: 'forget', memoryIds: [m.id] } };
  }
  stream.markdown(vscode.l10n.t('Which memory should I forget?') + '\n\n');
  for (const h of hits) {
    stream.markdown(`- ${esc(h.memory.text)}\n`);
    stream.button({ title: vscode.l10n.t('Forget "{0}"', short(h.memory.text, 40)), command: 'projectMemory.forget', arguments: [h.memory.id] });
  }
  return { metadata: { command: 'forget', memoryIds: hits.map((h) => h.memory.id) } };
}

async function search(pm: ProjectMemory, query: string, stream: vscode.ChatResponseStream, signal: AbortSignal): Promise<vscode.ChatResult> {
  if (!query) {
    stream.markdown(vscode.l10n.t('Give me something to search for, e.g. `/search database migrations`.'));
    return { metadata: { command: 'search' } };
  }
  const bank = await pm.getBank();
  const hits = await bank.search(query, { topK: 10, signal });
  if (!hits.length) {
    stream.markdown(vscode.l10n.t('No memory matches "{0}".', esc(query)));
    return { metadata: { command: 'search' } };
  }
  stream.markdown(vscode.l10n.t('{0} memories match:', hits.length) + '\n\n');
  for (const h of hits) {
    stream.markdown(trusted(`- ${revealLink(h.memory.id, short(h.memory.text, 120))} _(${h.memory.source.kind}, ${(h.memory.eventTime ?? h.memory.createdAt).slice(0, 10)})_\n`));
  }
  return { metadata: { command: 'search', memoryIds: hits.map((h) => h.memory.id) } };
}

async function history(pm: ProjectMemory, target: string, stream: vscode.ChatResponseStream, signal: AbortSignal): Promise<vscode.ChatResult> {
  const bank = await pm.getBank();
  let ids = target.split(/[\s,]+/).filter((t) => t && bank.get(t));
  if (!ids.length && target) {
    const hits = await bank.search(target, { topK: 1, includeInactive: true, signal });
    ids = hits.map((h) => h.memory.id);
  }
  if (!ids.length) {
    const recent = bank.history().slice(-15);
    if (!recent.length) {
      stream.markdown(vscode.l10n.t('The memory bank has no history yet.'));
      return { metadata: { command: 'history' } };
    }
    stream.markdown(vscode.l10n.t('Latest changes to the memory bank:') + '\n\n' + recent.map(formatRecord).join('\n') + '\n');
    return { metadata: { command: 'history' } };
  }
  for (const id of ids) {
    const m = bank.get(id)!;
    stream.markdown(`### ${esc(short(m.text, 100))}\n`);
    stream.markdown(trusted(revealLink(id, vscode.l10n.t('Show in the Memories panel'))));
    stream.markdown('\n\n' + bank.history(id).map(formatRecord).join('\n') + '\n\n');
  }
  return { metadata: { command: 'history', memoryIds: ids } };
}

export function formatRecord(r: HistoryRecord): string {
  const when = r.time.replace('T', ' ').slice(0, 16);
  const change =
    r.before && r.after && r.before.text !== r.after.text
      ? `${esc(r.before.text)} → ${esc(r.after.text)}`
      : esc((r.after ?? r.before)?.text ?? r.fact ?? '');
  const bits = [r.reason && `_${esc(r.reason)}_`, r.source && `${r.source.kind}${r.source.ref ? `: ${esc(short(r.source.ref, 40))}` : ''}`, r.model && `model ${esc(r.model)}`].filter(Boolean);
  return `- ${when} **${r.action}** ${change}${bits.length ? ` (${bits.join('; ')})` : ''}`;
}
