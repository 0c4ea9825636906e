// Memories checked against the workspace inside the extension (VS Code shim, real bank on disk, the
// fake OpenAI server over HTTP): a rename flags the memory citing the old path, the status bar says so,
// chat answers mark it, and the review command lets the manager rewrite it, with undo.
import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { testing, Uri } from '../support/vscodeShim';
import { agentReplies, startHarness, waitFor, type Harness } from '../support/extensionHarness';
import { freshnessFor } from '../../src/core/evidence/freshness';
import { FolderWorkspace } from '../../src/core/evidence/workspace';
import { reviewReply, type FakeChatRequest } from '../support/fakeOpenAIServer';

let h: Harness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

const base = agentReplies({ answer: () => '**Selected memories:** 1\n**Answer:** In src/utils/dates.ts.' });
function reply(req: FakeChatRequest): string | Promise<string> {
  const review = reviewReply(req, (memory, change) => {
    const moved = /(\S+) was renamed to (\S+?)\.?$/m.exec(change);
    return moved ? { decision: 'REWRITE', text: memory.replace(moved[1], moved[2]) } : { decision: 'KEEP' };
  });
  return review ?? base(req);
}

describe('freshness in the extension', () => {
  it('a rename flags the memory citing the old path; chat marks it; the review rewrites it and Undo brings it back', async () => {
    h = await startHarness({ reply });
    fs.mkdirSync(path.join(h.workspace, 'src/utils'), { recursive: true });
    fs.writeFileSync(path.join(h.workspace, 'src/utils/dates.ts'), 'export function formatDate() {}\n');
    const bank = await h.api.pm.getBank();
    const checker = freshnessFor(bank);
    const rec = await bank.addManual('The date helpers are in src/utils/dates.ts.');
    const id = rec.memoryId;
    await waitFor(() => !!checker.ledger.state(id)?.evidence.length, 5000, 'the new memory to be cited');
    expect(checker.ledger.state(id)!.evidence.map((e) => e.kind)).toEqual(['file']);

    testing.renameFile(Uri.file(path.join(h.workspace, 'src/utils/dates.ts')), Uri.file(path.join(h.workspace, 'src/time/dates.ts')));
    await waitFor(() => !!checker.ledger.review(id), 5000, 'the memory to be flagged');
    expect(checker.ledger.review(id)!.changes).toEqual(['src/utils/dates.ts was renamed to src/time/dates.ts']);
    const status = testing.state.statusBarItems.find((s) => String(s.text).includes('needs review'));
    expect(status?.text).toBe('$(warning) 1 memory needs review');
    expect(status?.visible).toBe(true);

    // The answer model sees the mark, and the user sees it under the cited memory.
    const { stream } = await h.chat('Where are the date helpers?');
    const answerPrompt = h.server.requests.map((r) => r.body).find((b) => /selected memories/i.test(b.messages?.[0]?.content ?? ''));
    expect(answerPrompt.messages.at(-1).content).toContain('needs review: src/utils/dates.ts was renamed to src/time/dates.ts');
    expect(stream.text).toContain('⚠ needs review: src/utils/dates.ts was renamed to src/time/dates.ts');

    testing.answer(() => 'Undo'); // the summary toast: undo the review
    await h.command('projectMemory.reviewFlagged');
    const summary = testing.state.ui.find((u) => String(u.message).startsWith('Reviewed 1'));
    expect(summary?.message).toBe('Reviewed 1: 0 kept, 1 rewritten, 0 retired, 0 held for approval, 0 not reviewed.');
    await waitFor(() => bank.get(id)?.status === 'active', 3000, 'the undo');
    expect(bank.list({ status: 'superseded' }).items).toEqual([]);
    const history = bank.history();
    expect(history.map((r) => r.action)).toEqual(['ADD', 'SUPERSEDE', 'UPDATE', 'UNDO', 'UNDO']);
    expect(history[2].after?.text).toBe('The date helpers are in src/time/dates.ts.');
    expect(history[2].reason).toBe('its cited files changed: src/utils/dates.ts was renamed to src/time/dates.ts.');
  });

  it('"Consolidate" previews the plan in a quick pick, applies the checked steps, and Undo reverts the pass', async () => {
    h = await startHarness({
      reply: agentReplies({
        manage: (fact) => (/Deploys happen/.test(fact) ? { decision: 'SAME', id: '0' } : { decision: 'NEW', id: 'none' }),
      }),
    });
    const bank = await h.api.pm.getBank();
    await bank.addManual('We deploy on Fridays.');
    await bank.addManual('Deploys happen on Fridays.');
    let shown: { label: string; detail: string; picked: boolean }[] = [];
    testing.answer((c) => {
      shown = c.items as typeof shown;
      return c.items; // confirm every step
    });
    testing.answer(() => 'Undo');
    await h.command('projectMemory.consolidate');
    expect(shown.map((i) => [i.label, i.detail, i.picked])).toEqual([['Retire duplicate: Deploys happen on Fridays.', 'The same as: We deploy on Fridays.', true]]);
    expect(testing.state.ui.some((u) => String(u.message) === 'Consolidation applied 1 changes (kept in the history).')).toBe(true);
    await waitFor(() => bank.list().counts.active === 2, 3000, 'the undo');
    expect(bank.history().map((r) => r.action)).toEqual(['ADD', 'ADD', 'DELETE', 'UNDO']);
  });

  it('"Still true" lifts the flag and takes the workspace as it is now as the memory\'s evidence', async () => {
    h = await startHarness({ reply });
    fs.mkdirSync(path.join(h.workspace, 'src'), { recursive: true });
    fs.writeFileSync(path.join(h.workspace, 'package.json'), JSON.stringify({ dependencies: { react: '^18.2.0' } }));
    const bank = await h.api.pm.getBank();
    const checker = freshnessFor(bank);
    const id = (await bank.addManual('The UI is built with React 18.')).memoryId;
    await waitFor(() => !!checker.ledger.state(id)?.evidence.length, 5000, 'the citation');
    fs.writeFileSync(path.join(h.workspace, 'package.json'), JSON.stringify({ dependencies: { react: '^19.0.0' } }));
    testing.saveDocument(testing.openDocument(path.join(h.workspace, 'package.json'), '', 'json'), JSON.stringify({ dependencies: { react: '^19.0.0' } }));
    await waitFor(() => !!checker.ledger.review(id), 5000, 'the flag');
    await h.command('projectMemory.markStillTrue', id);
    expect(checker.ledger.review(id)).toBeUndefined();
    // "React 18" is not what package.json pins now, so the memory no longer cites that pin.
    expect(checker.ledger.state(id)!.evidence).toEqual([]);
    // The same state of the workspace does not flag it again.
    const again = await checker.check(new FolderWorkspace(h.workspace));
    expect(again.flagged).toEqual([]);
  });

  it('"Retire Unused Memories" lists what was neither changed, confirmed nor used, retires the picked ones, and Undo brings them back', async () => {
    h = await startHarness({ reply });
    const bank = await h.api.pm.getBank();
    const old = '2024-01-02T03:04:05.000Z';
    await bank.importBundle(
      { format: 'project-memory-bank', version: 1, memories: [{ id: 'aaaaaaaa-0000-4000-8000-000000000002', text: 'Ana owns releases.', status: 'active', createdAt: old, updatedAt: old, tags: [], pinned: false, source: { kind: 'manual' } }] },
      'merge',
    );
    await bank.addManual('Written today.');
    let listed: string[] = [];
    testing.answer(() => '30'); // days
    testing.answer((c) => {
      listed = (c.items as { label: string }[]).map((i) => i.label);
      return c.items;
    });
    testing.answer(() => 'Undo');
    await h.command('projectMemory.retireUnused');
    expect(listed).toEqual(['Ana owns releases.']);
    expect(bank.history('aaaaaaaa-0000-4000-8000-000000000002').map((r) => [r.action, r.reason])).toEqual([
      ['IMPORT', 'imported'],
      ['DELETE', 'retired by hand: unused for 30 days'],
      ['UNDO', expect.any(String)],
    ]);
    expect(bank.get('aaaaaaaa-0000-4000-8000-000000000002')?.status).toBe('active');
  });
});

