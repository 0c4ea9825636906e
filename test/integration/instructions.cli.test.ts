// `memory-r1 instructions` and the kind flags through the CLI's real entry point, on a real bank on disk.
import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../support/runCli';
import { SECTION_END, SECTION_START } from '../../src/core/conventions/instructions';

let dir: string | undefined;
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('memory-r1 instructions', () => {
  it('prints and writes the section from the memories of kind convention/decision/workflow; kinds filter list and search', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-instr-'));
    const bank = ['--bank', path.join(dir, 'bank'), '--embedder', 'hashing'];
    expect((await runCli(['add', 'Functions use a cmd_ prefix.', '--kind', 'convention', ...bank])).code).toBe(0);
    expect((await runCli(['add', 'We picked httpx over requests for async support.', '--kind', 'decision', ...bank])).code).toBe(0);
    expect((await runCli(['add', 'Dana owns the ferry API.', '--kind', 'ownership', ...bank])).code).toBe(0);
    const bad = await runCli(['add', 'x', '--kind', 'gossip', ...bank]);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('--kind takes kinds from: convention, decision, workflow, architecture, ownership, bugfix, other');

    const list = await runCli(['list', '--kind', 'convention,decision', ...bank]);
    expect(list.out).toMatch(/cmd_ prefix\.\s+\[convention\]/);
    expect(list.out).toMatch(/httpx over requests.*\[decision\]/);
    expect(list.out).not.toContain('Dana');

    const printed = await runCli(['instructions', ...bank]);
    expect(printed.code).toBe(0);
    expect(printed.out).toContain(SECTION_START);
    expect(printed.out).toMatch(/### Conventions\n- Functions use a cmd_ prefix\. _\(\d{4}-\d{2}-\d{2}\)_/);
    expect(printed.out).not.toContain('Dana');

    const ws = path.join(dir, 'ws');
    fs.mkdirSync(ws);
    fs.writeFileSync(path.join(ws, 'CLAUDE.md'), '# Mine\n');
    const wrote = await runCli(['instructions', '--write', 'CLAUDE.md,.cursor/rules/project-memory.mdc', '--workspace', ws, ...bank]);
    expect(wrote.out).toContain('CLAUDE.md: updated (2 rules)');
    expect(wrote.out).toContain('.cursor/rules/project-memory.mdc: created (2 rules)');
    expect(fs.readFileSync(path.join(ws, 'CLAUDE.md'), 'utf8').startsWith(`# Mine\n\n${SECTION_START}`)).toBe(true);
    expect(fs.readFileSync(path.join(ws, '.cursor/rules/project-memory.mdc'), 'utf8')).toMatch(/^---\ndescription: .*\nalwaysApply: true\n---\n\n<!-- project-memory:start -->/);
    expect((await runCli(['instructions', '--write', 'CLAUDE.md', '--workspace', ws, ...bank])).out).toContain('CLAUDE.md: up to date');

    // Broken markers: a clear error, the file untouched.
    const broken = `# Mine\n${SECTION_END}\n${SECTION_START}\n`;
    fs.writeFileSync(path.join(ws, 'AGENTS.md'), broken);
    const refused = await runCli(['instructions', '--write', 'AGENTS.md', '--workspace', ws, ...bank]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('in the wrong order');
    expect(fs.readFileSync(path.join(ws, 'AGENTS.md'), 'utf8')).toBe(broken);
    expect((await runCli(['instructions', '--write', '../outside.md', '--workspace', ws, ...bank])).err).toContain('is outside the workspace');
  });
});
