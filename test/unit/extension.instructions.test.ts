// Instruction-file sync inside the extension (VS Code shim, a real bank on disk): opt-in per workspace,
// the first write shown as a diff and written only on the user's yes, rewritten as the bank changes (a
// replaced rule leaves the section), never a byte outside the markers, and a file with unsaved edits left alone.
import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { testing, Uri } from '../support/vscodeShim';
import { startHarness, waitFor, type Harness } from '../support/extensionHarness';
import { SECTION_END, SECTION_START } from '../../src/core/conventions/instructions';
import { PREVIEW_SCHEME } from '../../src/extension/instructions/instructionsService';

let h: Harness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

describe('instruction-file sync', () => {
  it('writes the conventions section after a diff and a yes, follows the bank, and keeps every byte outside the markers', async () => {
    h = await startHarness({ config: { 'projectMemory.instructions.files': ['AGENTS.md', '.github/copilot-instructions.md'] } });
    const agents = path.join(h.workspace, 'AGENTS.md');
    const mine = '# Agents\n\nWrite tests first.\n';
    fs.writeFileSync(agents, mine);
    const bank = await h.api.pm.getBank();
    const handlers = await bank.addManual('HTTP handlers are named with an on prefix (onCreateUser).', { kind: 'convention' });
    await bank.addManual('`make check` runs the linters and the tests.', { kind: 'workflow' });
    await bank.addManual('Ana moved to Lisbon.', { kind: 'other' });

    // Nothing is written in the background before the user has seen it.
    await h.api.instructions.flush();
    expect(fs.readFileSync(agents, 'utf8')).toBe(mine);

    // The command: each file's first write is shown as a diff, then asked; the user writes one and declines the other.
    testing.answer(() => 'Write');
    testing.answer(() => undefined);
    await h.command('projectMemory.syncInstructions');
    const diffs = testing.state.executed.filter((e) => e.command === 'vscode.diff');
    expect(diffs).toHaveLength(2);
    const preview = diffs[0].args[1] as Uri;
    const proposed = testing.state.contentProviders.get(PREVIEW_SCHEME)!.provideTextDocumentContent(preview)!;
    const written = fs.readFileSync(agents, 'utf8');
    expect(written).toBe(proposed);
    expect(written.startsWith(mine + '\n' + SECTION_START)).toBe(true);
    expect(written).toContain('- HTTP handlers are named with an on prefix (onCreateUser).');
    expect(written).toContain('### Commands and workflows\n- `make check` runs the linters and the tests.');
    expect(written).not.toContain('Lisbon');
    expect(fs.existsSync(path.join(h.workspace, '.github/copilot-instructions.md'))).toBe(false);

    // The user edits outside the section; the rule changes; the section follows (no question now), the edits stay.
    const edited = written.replace('# Agents\n', '# Agents (edited by hand)\n') + '\n## Notes after the section\n';
    fs.writeFileSync(agents, edited);
    await bank.applyBatch([{ type: 'UPDATE', memoryId: handlers.memoryId, text: 'HTTP handlers are named with a handle prefix (handleCreateUser).', kind: 'convention' }], { fact: 'handle prefix' });
    await waitFor(() => fs.readFileSync(agents, 'utf8').includes('handle prefix'), 8000, 'the section to follow the bank');
    const after = fs.readFileSync(agents, 'utf8');
    expect(after).not.toContain('on prefix');
    const outside = (t: string) => t.slice(0, t.indexOf(SECTION_START)) + t.slice(t.indexOf(SECTION_END));
    expect(outside(after)).toBe(outside(edited));
    expect(testing.state.executed.filter((e) => e.command === 'vscode.diff')).toHaveLength(2);

    // Unsaved edits in the editor: the file is left alone and the user is told.
    const doc = testing.openDocument(agents, after, 'markdown');
    (doc as unknown as { isDirty: boolean }).isDirty = true;
    await bank.addManual('Modules use named exports only.', { kind: 'convention' });
    await h.api.instructions.flush();
    expect(fs.readFileSync(agents, 'utf8')).toBe(after);
    const out = await h.api.instructions.sync({ interactive: false });
    expect(out.find((o) => o.file === 'AGENTS.md')?.result).toBe('unsaved edits');
  });
});
