// The packaged extension (dist/project-memory.vsix) in a real code-server, driven through Chromium the
// way a user drives it. The models behind it are the project's OpenAI-protocol test server with a
// scripted reply: the extractor returns the "Decision:" lines of an event, the manager decides
// ADD/REPLACES (supersede) by rule, in the default per-fact protocol and the paper one, the answer agent cites the memory that mentions the question's key word.
// Every scenario asserts on what the user sees and leaves dark and light screenshots in the run folder.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import type { FrameLocator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserSession,
  type CodeServer,
  REPO_ROOT,
  TIMEOUTS,
  launchBrowser,
  makeTempDir,
  openWorkbench,
  quickInput,
  addMemoryFromPalette,
  runCommand,
  runExtensionHostSuite,
  screenshot,
  setTheme,
  startCodeServer,
  waitForNotification,
  waitForStatusBarItem,
  webviewFrame,
} from './harness';
import { candidatesIn, factIn, protocolOf, reviewReply, roleOf, startFakeOpenAIServer, type FakeChatRequest, type FakeOpenAIServer } from '../support/fakeOpenAIServer';

const VSIX = path.join(REPO_ROOT, 'dist', 'project-memory.vsix');
/** Set once `npm run package` ran in this file, so a filtered run (-t) packages once too. */
let packaged = false;
function ensurePackaged(): void {
  if (packaged) return;
  execFileSync('npm', ['run', 'package'], { cwd: REPO_ROOT, stdio: 'inherit' });
  packaged = true;
}
const MODEL = 'fake-model';
/** Capture debounces saves (4 s) and commits (1.5 s), batches (2 s), then calls the models. */
const CAPTURE_TIMEOUT = 90_000;

const MANUAL_FACT = 'The build is bundled with esbuild into dist/extension.js.';
const MANUAL_FACT_EDITED = 'The build is bundled with esbuild into dist/extension.js and dist/webview.js.';
const DOCS_FACT = 'The docs site deploys with GitHub Pages.';
const DOCS_UPDATED = 'The docs site now deploys with Netlify.';
const DOCS_GONE = 'The project no longer publishes a docs site.';
const TESTS_FACT = 'Tests run with vitest in CI.';
const RELEASE_FACT = 'Releases are tagged from the main branch.';
const DATES_FACT = 'The date helpers are in src/dates.ts.';
const DATES_MOVED = 'The date helpers are in src/time.ts.';

// Synthetic secrets, random per run, so no secret-shaped literal sits in the repository.
function randomAlphanumeric(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(crypto.randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
}
const GITHUB_TOKEN = 'ghp_' + randomAlphanumeric(36);
const AWS_SECRET = randomAlphanumeric(40);
const DB_PASSWORD = randomAlphanumeric(20);

/** The scripted models behind the endpoint. */
function scriptedModel(req: FakeChatRequest): string {
  const role = roleOf(req);
  if (role === 'extractor') {
    const text = req.messages.at(-1)!.content;
    return JSON.stringify({ facts: [...text.matchAll(/Decision: ([^\n]+)/g)].map((m) => m[1].trim()) });
  }
  // The freshness review: the file the memory cites was moved to src/time.ts (the test knows where).
  const review = reviewReply(req, (memory) => (memory === DATES_FACT ? { decision: 'REWRITE', text: DATES_MOVED } : { decision: 'KEEP' }));
  if (review) return review;
  if (role === 'manager' && protocolOf(req) === 'per-fact') {
    // The default protocol: one decision about the fact; the engine writes the fact itself.
    const fact = factIn(req);
    const docs = candidatesIn(req).find((c) => /docs site/i.test(c.text));
    if (/no longer publishes a docs site|docs site now deploys/i.test(fact) && docs) return JSON.stringify({ decision: 'REPLACES', id: docs.id });
    return JSON.stringify({ decision: 'NEW', id: 'none' });
  }
  if (role === 'manager') {
    const fact = factIn(req);
    const candidates = candidatesIn(req);
    const docs = candidates.find((c) => /docs site/i.test(c.text));
    if (/no longer publishes a docs site/i.test(fact) && docs) {
      return JSON.stringify({ memory: [{ id: docs.id, text: docs.text, event: 'DELETE', reason: 'the docs site was dropped' }] });
    }
    if (/docs site now deploys/i.test(fact) && docs) {
      return JSON.stringify({ memory: [{ id: docs.id, text: fact, event: 'UPDATE', old_memory: docs.text, reason: 'the docs host changed' }] });
    }
    return JSON.stringify({ memory: [...candidates.map((c) => ({ id: c.id, text: c.text, event: 'NONE' })), { id: 'new', text: fact, event: 'ADD' }] });
  }
  if (role === 'answer') {
    const user = req.messages.at(-1)!.content;
    const question = /Question: (.*)/.exec(user)?.[1] ?? '';
    const word = /tests|build|releases/i.exec(question)?.[0].toLowerCase() ?? 'none';
    const line = user.split('\n').find((l) => /^\[\d+\]/.test(l) && l.toLowerCase().includes(word));
    if (!line) return '**Selected memories:** none\n**Answer:** I do not know.';
    const key = /^\[(\d+)\]/.exec(line)![1];
    return `**Selected memories:** ${key}\n**Answer:** From the project memory: ${line.replace(/^\[\d+\]( \([^)]*\))? /, '')}`;
  }
  return '{}';
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(p));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=E2E Tester', '-c', 'user.email=e2e@example.invalid', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    encoding: 'utf8',
  });
}

describe('Project Memory in code-server: what the user sees', () => {
  let endpoint: FakeOpenAIServer;
  let server: CodeServer | undefined;
  let session: BrowserSession | undefined;
  let workspace: string;
  let theme: 'dark' | 'light' = 'dark';

  const page = (): Page => session!.page;
  const panel = (): Promise<FrameLocator> => webviewFrame(page(), 'Memories');
  const row = (frame: FrameLocator, text: string) => frame.locator('.memory-list .row', { hasText: text }).first();
  const historyBadges = (frame: FrameLocator) => frame.locator('.details .timeline .record-head .badge.action').allTextContents();

  /** Screenshot in the current theme, switch theme, screenshot again (the webview follows the theme). */
  async function shootBothThemes(name: string, frame?: FrameLocator): Promise<void> {
    await screenshot(page(), `${name}-${theme}`);
    theme = theme === 'dark' ? 'light' : 'dark';
    await setTheme(page(), theme === 'dark' ? 'Default Dark Modern' : 'Default Light Modern');
    if (frame) {
      await expect.poll(() => frame.locator('body').getAttribute('class'), { timeout: TIMEOUTS.ui }).toContain(`vscode-${theme}`);
    }
    await screenshot(page(), `${name}-${theme}`);
  }

  /** Opens a workspace file in the editor, appends `text` at its end and saves it. */
  async function appendAndSave(file: string, text: string): Promise<void> {
    await page().keyboard.press('Control+P');
    await quickInput(page(), file, { pick: true });
    const tab = page().locator('.tabs-container .tab.active', { hasText: file });
    await tab.waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
    const lines = page().locator('.editor-instance .monaco-editor .view-lines').first();
    await lines.click();
    await page().keyboard.press('Control+End');
    await page().keyboard.type(text);
    await page().keyboard.press('Control+S');
    // The save reaches the server's disk asynchronously.
    await expect.poll(() => fs.readFileSync(path.join(workspace, file), 'utf8'), { timeout: TIMEOUTS.ui }).toContain(text.trim());
  }

  beforeAll(async () => {
    // The .vsix under test is built from this checkout.
    ensurePackaged();
    expect(fs.existsSync(VSIX)).toBe(true);
    endpoint = await startFakeOpenAIServer({ reply: scriptedModel, modelName: MODEL });

    workspace = makeTempDir('product-ws');
    fs.writeFileSync(path.join(workspace, 'README.md'), '# Sample project\n');
    fs.writeFileSync(path.join(workspace, 'notes.md'), '# Notes\n');
    fs.writeFileSync(path.join(workspace, 'deploy.md'), '# Deployment\n');
    git(workspace, 'init', '-q', '-b', 'main');
    git(workspace, 'add', '-A');
    git(workspace, 'commit', '-q', '-m', 'Initial commit');

    const endpointSettings = {
      'projectMemory.endpoint.url': endpoint.url,
      'projectMemory.models.extractor': MODEL,
      'projectMemory.models.manager': MODEL,
      'projectMemory.models.answer': MODEL,
    };
    server = await startCodeServer({
      workspace,
      vsix: [VSIX],
      name: 'product',
      settings: { ...endpointSettings, 'chat.disableAIFeatures': false, 'git.enabled': true },
    });
    // In a remote window (code-server) machine-overridable settings come from the machine's settings
    // file, not the user's: that is where a user of code-server sets the endpoint too.
    fs.mkdirSync(path.join(server.userDataDir, 'Machine'), { recursive: true });
    fs.writeFileSync(path.join(server.userDataDir, 'Machine', 'settings.json'), JSON.stringify(endpointSettings, null, 2));
    session = await launchBrowser();
    await openWorkbench(session.page, server);
    await setTheme(session.page, 'Default Dark Modern');
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && session) {
      console.log(`[e2e] failure screenshot: ${await screenshot(session.page, `failed-${context.task.name}`)}\n${session.errors.slice(-20).join('\n')}`);
    }
  });

  afterAll(async () => {
    await session?.close();
    await server?.stop();
    await endpoint?.close();
  });

  it('1. activates: the Project Memory activity bar container opens the "Memories" side panel', async () => {
    const container = page().locator('.part.activitybar .action-item [aria-label^="Project Memory"]').first();
    await container.waitFor({ state: 'visible', timeout: TIMEOUTS.workbench });
    await container.click();
    // The click leaves focus in the panel's webview; give it back to the workbench before using the palette.
    await page().locator('.part.sidebar .composite.title').first().click();
    await expect.poll(() => page().locator('.part.sidebar .composite.title').first().textContent(), { timeout: TIMEOUTS.ui }).toMatch(/Project Memory/i);
    // The container's click alone must show the panel's page: no palette here.
    const frame = await webviewFrame(page(), 'Memories', { open: false });
    await frame.getByText('No memories yet').waitFor({ state: 'visible', timeout: 60_000 });
    await expect(frame.locator('.summary').textContent()).resolves.toContain('0 active');
    await shootBothThemes('1-activated-empty-panel', frame);
  });

  it('2. "Project Memory: Add Memory" from the command palette shows in the panel with an ADD record', async () => {
    await addMemoryFromPalette(page(), MANUAL_FACT);
    const frame = await panel();
    await row(frame, MANUAL_FACT).waitFor({ state: 'visible', timeout: 60_000 });
    await row(frame, MANUAL_FACT).click();
    await frame.locator('.details .timeline .badge.action-ADD').waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
    expect(await historyBadges(frame)).toEqual(['ADD']);
    await expect(frame.locator('.details .memory-text').textContent()).resolves.toBe(MANUAL_FACT);
    await expect(frame.locator('.details .meta-grid').textContent()).resolves.toContain('manual');
    // Adding by hand makes no model call.
    expect(endpoint.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(0);
    await shootBothThemes('2-added-from-palette', frame);
  });

  it('3. a saved file and git commits become memories; a later commit supersedes one, and so does a contradiction', async () => {
    await appendAndSave('notes.md', `\nDecision: ${DOCS_FACT}\nDecision: ${TESTS_FACT}\n`);
    let frame = await panel();
    await row(frame, DOCS_FACT).waitFor({ state: 'visible', timeout: CAPTURE_TIMEOUT });
    await row(frame, TESTS_FACT).waitFor({ state: 'visible', timeout: CAPTURE_TIMEOUT });
    await expect(row(frame, DOCS_FACT).locator('.source').textContent()).resolves.toContain('save · notes.md');

    // A commit made outside the editor (the extension watches HEAD): its message changes the docs host.
    // The update supersedes: the old memory leaves the active list and stays, marked, as history.
    git(workspace, 'add', '-A');
    git(workspace, 'commit', '-q', '-m', `Decision: ${DOCS_UPDATED}`);
    await row(frame, DOCS_UPDATED).waitFor({ state: 'visible', timeout: CAPTURE_TIMEOUT });
    await expect(row(frame, DOCS_FACT).count()).resolves.toBe(0);
    await row(frame, DOCS_UPDATED).click();
    await expect.poll(() => historyBadges(frame), { timeout: TIMEOUTS.ui }).toEqual(['UPDATE']);
    await expect(frame.locator('.details .meta-grid').textContent()).resolves.toContain('Replaces');
    // Where it came from: the commit as the bank kept it, behind a disclosure; "Open source" shows it in an editor.
    await expect.poll(() => frame.locator('.details .source-event summary').first().textContent(), { timeout: TIMEOUTS.ui }).toMatch(/^from: commit [0-9a-f]{7}, \d{4}-\d{2}-\d{2}$/);
    await frame.getByRole('button', { name: 'Open source' }).click();
    const sourceTab = page().locator('.tabs-container .tab.active', { hasText: /^commit [0-9a-f]{7}/ });
    await sourceTab.waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
    await expect.poll(async () => (await page().locator('.editor-instance .monaco-editor .view-lines').first().textContent())?.replace(/\s+/g, ' '), { timeout: TIMEOUTS.ui }).toContain(`Decision: ${DOCS_UPDATED}`);
    frame = await panel();
    await shootBothThemes('3-commit-update-history', frame);
    frame = await panel();
    await frame.getByLabel('Status filter').selectOption('superseded');
    await row(frame, DOCS_FACT).click();
    await expect.poll(() => historyBadges(frame), { timeout: TIMEOUTS.ui }).toEqual(['SUPERSEDE', 'ADD']);
    await expect(frame.locator('.details .meta-grid').textContent()).resolves.toContain('Replaced by');

    // A contradiction supersedes the current memory in turn.
    git(workspace, 'commit', '-q', '--allow-empty', '-m', `Decision: ${DOCS_GONE}`);
    await row(frame, DOCS_UPDATED).waitFor({ state: 'visible', timeout: CAPTURE_TIMEOUT });
    await row(frame, DOCS_UPDATED).click();
    await expect.poll(() => historyBadges(frame), { timeout: TIMEOUTS.ui }).toEqual(['SUPERSEDE', 'UPDATE']);
    await shootBothThemes('3-contradiction-supersede-history', frame);
    frame = await panel();
    await frame.getByLabel('Status filter').selectOption('active');
    await row(frame, DOCS_GONE).waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
    await row(frame, TESTS_FACT).waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
    await expect(row(frame, DOCS_UPDATED).count()).resolves.toBe(0);
  });

  it('4. edit, delete, restore and undo from the side panel; the history shows each step', async () => {
    const frame = await panel();
    await row(frame, MANUAL_FACT).click();
    await frame.getByRole('button', { name: 'Edit memory' }).click();
    await frame.locator('.details .editor textarea').fill(MANUAL_FACT_EDITED);
    await frame.locator('.details .editor button', { hasText: 'Save' }).click();
    await expect.poll(() => historyBadges(frame), { timeout: TIMEOUTS.ui }).toEqual(['EDIT', 'ADD']);
    await expect(frame.locator('.details .memory-text').textContent()).resolves.toBe(MANUAL_FACT_EDITED);
    await expect(row(frame, MANUAL_FACT_EDITED).isVisible()).resolves.toBe(true);
    await expect(frame.locator('.details .timeline .record.action-EDIT ins').allTextContents()).resolves.toEqual(
      expect.arrayContaining([expect.stringContaining('webview.js')]),
    );
    await shootBothThemes('4-edited', frame);

    await frame.getByRole('button', { name: 'Delete memory' }).click();
    await expect.poll(() => historyBadges(frame), { timeout: TIMEOUTS.ui }).toEqual(['DELETE', 'EDIT', 'ADD']);
    await expect(row(frame, MANUAL_FACT_EDITED).count()).resolves.toBe(0);

    await frame.getByRole('button', { name: 'Restore memory' }).click();
    await expect.poll(() => historyBadges(frame), { timeout: TIMEOUTS.ui }).toEqual(['RESTORE', 'DELETE', 'EDIT', 'ADD']);
    await row(frame, MANUAL_FACT_EDITED).waitFor({ state: 'visible', timeout: TIMEOUTS.ui });

    // Undo the restore from its timeline entry: the memory is deleted again and the RESTORE is marked undone.
    const restore = frame.locator('.details .timeline .record.action-RESTORE');
    await restore.locator('.undo-button').click();
    await expect.poll(() => historyBadges(frame), { timeout: TIMEOUTS.ui }).toEqual(['UNDO', 'RESTORE', 'DELETE', 'EDIT', 'ADD']);
    await restore.locator('.badge.undone').waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
    await row(frame, MANUAL_FACT_EDITED).waitFor({ state: 'detached', timeout: TIMEOUTS.ui });
    await expect(frame.locator('.details .meta-grid').textContent()).resolves.toContain('deleted');
    await shootBothThemes('4-restored-then-undone', frame);
  });

  it('5. @memory answers in the chat view with the endpoint model and cites a memory', async () => {
    const p = page();
    // Opening the language models editor makes VS Code ask every provider for its models; until
    // then the picker only offers a Copilot sign-in (code-server's product names Copilot as default).
    await runCommand(p, 'Chat: Manage Language Models');
    // That editor opens as a modal over the workbench and lists the endpoint's model.
    const modelsEditor = p.locator('.monaco-workbench').getByText('Language Models', { exact: true }).first();
    await modelsEditor.waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
    await p.getByText(MODEL, { exact: true }).first().waitFor({ state: 'visible', timeout: 60_000 });
    await p.keyboard.press('Escape');
    await modelsEditor.waitFor({ state: 'hidden', timeout: TIMEOUTS.ui });
    await p.keyboard.press('Control+Alt+I');
    const chatInput = p.locator('.interactive-input-part').last();
    await chatInput.waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
    const modelPicker = chatInput.locator('.model-picker-name, .chat-model-picker-item .action-label').first();
    await expect.poll(() => modelPicker.textContent(), { timeout: 60_000 }).toContain(MODEL);

    // A first-run tip about utility models may sit over the input.
    const tip = p.locator('.part.auxiliarybar').getByText('Set BYOK utility models').locator('xpath=ancestor::*[.//*[contains(@class,"codicon-close")]][1]').locator('.codicon-close').first();
    if (await tip.isVisible()) await tip.click();
    const editor = chatInput.locator('.monaco-editor').first();
    await editor.click();
    await chatInput.locator('.monaco-editor.focused').waitFor({ state: 'attached', timeout: TIMEOUTS.ui });
    await p.keyboard.press('Control+A');
    await p.keyboard.press('Backspace');
    // "@mem" opens the participant suggestions; the @memory row proves the participant is registered.
    await p.keyboard.type('@mem');
    await p.locator('.suggest-widget .monaco-list-row', { hasText: /^@memory$/ }).first().waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
    await p.keyboard.type('ory How do the tests run?');
    // Monaco renders spaces as no-break spaces.
    await expect.poll(async () => (await editor.locator('.view-lines').textContent())?.replace(/\s+/g, ' '), { timeout: TIMEOUTS.ui }).toContain('@memory How do the tests run?');
    const requestsBefore = endpoint.requests.length;
    await chatInput.locator('.chat-submit-button .action-label').first().click();
    const response = p.locator('.interactive-item-container.interactive-response').last();
    await response
      .getByText(`From the project memory: ${TESTS_FACT}`)
      .waitFor({ state: 'visible', timeout: 60_000 })
      .catch((error: Error) => {
        const roles = endpoint.requests.slice(requestsBefore).map((r) => `${r.path} ${r.body?.messages ? roleOf(r.body) : ''}`);
        throw new Error(`${error.message}\nRequests to the endpoint after sending: ${JSON.stringify(roles)}`);
      });
    await expect(response.textContent()).resolves.toContain('Memories used:');
    // The citation is a trusted command link labelled with the memory's text.
    const citation = response.getByRole('link', { name: TESTS_FACT });
    await citation.first().waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
    await expect(citation.count()).resolves.toBe(1);
    // The answer came from the endpoint's model, through the answer agent.
    expect(endpoint.requests.some((r) => r.path.endsWith('/chat/completions') && r.body.model === MODEL && roleOf(r.body) === 'answer')).toBe(true);
    await shootBothThemes('5-chat-answer-with-citation');
  });

  it('5b. clicking a citation reveals the memory in the panel', async () => {
    // Another view takes the side bar first, so only the click can bring the Memories panel back.
    await runCommand(page(), 'View: Show Explorer');
    const memoriesPane = page().locator('.pane').filter({ has: page().locator('.pane-header h3.title', { hasText: /^Memories$/i }) });
    await memoriesPane.locator('.pane-body').waitFor({ state: 'hidden', timeout: TIMEOUTS.ui });
    const response = page().locator('.interactive-item-container.interactive-response').last();
    await response.getByRole('link', { name: TESTS_FACT }).click();
    // The click itself must bring the panel up: look for it without opening it.
    const frame = await webviewFrame(page(), 'Memories', { open: false });
    await expect.poll(() => row(frame, TESTS_FACT).getAttribute('aria-selected'), { timeout: TIMEOUTS.ui }).toBe('true');
    await expect.poll(() => frame.locator('.details .memory-text').textContent(), { timeout: TIMEOUTS.ui }).toBe(TESTS_FACT);
    await shootBothThemes('5-citation-revealed-in-panel', frame);
  });

  it('6. secrets in a saved file reach neither the bank files, the history, the panel nor the model server', async () => {
    await appendAndSave('deploy.md', `\nDecision: ${RELEASE_FACT}\nGITHUB_TOKEN=${GITHUB_TOKEN}\nAWS_SECRET_ACCESS_KEY=${AWS_SECRET}\n`);
    expect(fs.readFileSync(path.join(workspace, 'deploy.md'), 'utf8')).toContain(GITHUB_TOKEN);
    const frame = await panel();
    await row(frame, RELEASE_FACT).waitFor({ state: 'visible', timeout: CAPTURE_TIMEOUT });
    await row(frame, RELEASE_FACT).click();
    await expect.poll(() => historyBadges(frame), { timeout: TIMEOUTS.ui }).toEqual(['ADD']);
    const panelText = (await frame.locator('body').textContent()) ?? '';
    expect(panelText).toContain(RELEASE_FACT);

    // The save reached the model server (so the check below is not vacuous), without the secrets.
    const sent = JSON.stringify(endpoint.requests.map((r) => r.body));
    expect(sent).toContain(RELEASE_FACT);
    // The bank: memories, history, capture queue and index under the workspace storage.
    const bankFiles = filesUnder(path.join(server!.userDataDir, 'User', 'workspaceStorage')).filter((f) => f.includes(`${path.sep}project-memory.project-memory${path.sep}`));
    expect(bankFiles.some((f) => f.endsWith('history.jsonl')), bankFiles.join('\n')).toBe(true);
    // Read once; the lock file comes and goes with each write, so one listed a moment ago may be gone.
    const contents = bankFiles.flatMap((f): [string, string][] => {
      try {
        return [[f, fs.readFileSync(f, 'latin1')]];
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    });
    expect(contents.map(([, text]) => text).join('\n')).toContain(RELEASE_FACT);
    for (const secret of [GITHUB_TOKEN, AWS_SECRET]) {
      expect(sent.includes(secret), 'a request to the model server carries a secret').toBe(false);
      expect(panelText.includes(secret), 'the panel shows a secret').toBe(false);
      for (const [f, text] of contents) expect(text.includes(secret), `${f} holds a secret`).toBe(false);
    }
    await shootBothThemes('6-secret-redacted', frame);
  });

  it('6b. "Add Memory" with a database URL stores it redacted; "Scrub Secrets" then finds nothing to scrub', async () => {
    await addMemoryFromPalette(page(), `The reporting database is postgres://report:${DB_PASSWORD}@db.internal:5432/reports`);
    const shown = 'The reporting database is postgres://report:[REDACTED:postgres-url-password]@db.internal:5432/reports';
    const frame = await panel();
    await row(frame, shown).waitFor({ state: 'visible', timeout: 60_000 });
    expect((await frame.locator('body').textContent()) ?? '').not.toContain(DB_PASSWORD);
    // The confirmation toast shows what was stored, not what was typed.
    await waitForNotification(page(), 'Remembered: The reporting database is postgres://report:[REDACTED');
    const bankFiles = filesUnder(path.join(server!.userDataDir, 'User', 'workspaceStorage')).filter((f) => f.includes(`${path.sep}project-memory.project-memory${path.sep}`));
    expect(bankFiles.map((f) => fs.readFileSync(f, 'latin1')).join('\n')).toContain('[REDACTED:postgres-url-password]');
    for (const f of bankFiles) expect(fs.readFileSync(f, 'latin1').includes(DB_PASSWORD), `${f} holds the password`).toBe(false);
    await runCommand(page(), 'Project Memory: Scrub Secrets');
    await waitForNotification(page(), 'No secrets found in the memory bank');
    await shootBothThemes('6b-add-memory-redacted', frame);
  });

  it('7. a file renamed in a terminal flags the memory citing the old path in the panel; the review rewrites it', async () => {
    fs.mkdirSync(path.join(workspace, 'src'), { recursive: true });
    fs.writeFileSync(path.join(workspace, 'src', 'dates.ts'), 'export function formatDate(d: Date): string {\n  return d.toISOString();\n}\n');
    await addMemoryFromPalette(page(), DATES_FACT);
    const frame = await panel();
    await row(frame, DATES_FACT).waitFor({ state: 'visible', timeout: 60_000 });
    await row(frame, DATES_FACT).click();
    // The new memory is cited (what it names in the workspace) shortly after it is written.
    await expect.poll(() => frame.locator('.details .meta-grid .evidence').textContent(), { timeout: 30_000 }).toContain('src/dates.ts');

    fs.renameSync(path.join(workspace, 'src', 'dates.ts'), path.join(workspace, 'src', 'time.ts'));
    await row(frame, DATES_FACT).locator('.badge.needs-review').waitFor({ state: 'visible', timeout: 60_000 });
    await expect(frame.locator('.details .meta-grid .review-changes').textContent()).resolves.toContain('src/dates.ts no longer exists');
    await waitForStatusBarItem(page(), '1 memory needs review');
    await shootBothThemes('7-needs-review', frame);

    await runCommand(page(), 'Project Memory: Review Memories That Need Review');
    await waitForNotification(page(), 'Reviewed 1: 0 kept, 1 rewritten, 0 retired');
    await row(frame, DATES_MOVED).waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
    await expect(row(frame, DATES_FACT).count()).resolves.toBe(0);
    await expect(frame.locator('.memory-list .badge.needs-review').count()).resolves.toBe(0);
  });
});

describe("the project's @vscode/test-electron suite inside code-server", () => {
  it('passes (its run() rejects on any failed case)', async () => {
    // The harness runs plain CommonJS: bundle the suite the way test/vscode-electron/runTest.ts does.
    const outDir = makeTempDir('electron-suite');
    const suite = path.join(outDir, 'suite.js');
    await build({
      entryPoints: [path.join(REPO_ROOT, 'test/vscode-electron/suite/index.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['vscode'],
      outfile: suite,
      logLevel: 'warning',
    });
    const workspace = makeTempDir('electron-suite-ws');
    fs.writeFileSync(path.join(workspace, 'README.md'), '# test workspace\n');
    // extensionDevelopmentPath is the checkout: beforeAll of the file above built dist/ (npm run package).
    expect(fs.existsSync(path.join(REPO_ROOT, 'dist/extension.js'))).toBe(true);
    const result = await runExtensionHostSuite({ extensionDevelopmentPath: REPO_ROOT, extensionTestsPath: suite, workspace });
    const log = result.log.join('\n');
    expect(result.exitCode, log).toBe(0);
    expect(log).toMatch(/\b4 passed, 0 failed\b/);
  });
});

describe('the local embedding model in the packaged extension', () => {
  it('runs all-MiniLM-L6-v2 on the WebAssembly runtime the .vsix carries (it has no native binaries)', async () => {
    // dist/project-memory.vsix was built by the first describe's beforeAll.
    expect(fs.existsSync(VSIX)).toBe(true);
    const modelsDir = path.join(REPO_ROOT, '.cache', 'models'); // installed by scripts/setup-models.sh
    expect(fs.existsSync(path.join(modelsDir, 'all-MiniLM-L6-v2', 'model.onnx'))).toBe(true);
    const ws = makeTempDir('local-embeddings-ws');
    fs.writeFileSync(path.join(ws, 'README.md'), '# Sample project\n');
    const settings = { 'projectMemory.embeddings.provider': 'local' };
    const srv = await startCodeServer({ workspace: ws, vsix: [VSIX], name: 'local-embeddings', settings, env: { PROJECT_MEMORY_MODELS_DIR: modelsDir } });
    fs.mkdirSync(path.join(srv.userDataDir, 'Machine'), { recursive: true });
    fs.writeFileSync(path.join(srv.userDataDir, 'Machine', 'settings.json'), JSON.stringify(settings, null, 2));
    const browser = await launchBrowser();
    try {
      await openWorkbench(browser.page, srv);
      await addMemoryFromPalette(browser.page, MANUAL_FACT);
      // The bank keeps one vector file per embedder: MiniLM's, not the lexical fallback's.
      const vectorFiles = () => filesUnder(path.join(srv.userDataDir, 'User', 'workspaceStorage')).map((f) => path.basename(f)).filter((f) => f.startsWith('vectors-'));
      await expect.poll(vectorFiles, { timeout: 120_000 }).toEqual([expect.stringMatching(/^vectors-onnx.all-MiniLM-L6-v2.384/)]);
      const frame = await webviewFrame(browser.page, 'Memories');
      await frame.locator('.memory-list .row', { hasText: MANUAL_FACT }).first().waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
      // No "local embedding model is unavailable" warning: the fallback did not happen.
      await expect(browser.page.locator('.notifications-toasts').textContent()).resolves.not.toMatch(/embedding model is unavailable/);
      await screenshot(browser.page, '7-local-embeddings-light');
      await setTheme(browser.page, 'Default Dark Modern');
      await screenshot(browser.page, '7-local-embeddings-dark');
    } finally {
      await browser.close();
      await srv.stop();
    }
  });
});

describe('the built-in local model in the packaged extension', () => {
  it('"Use Built-in Local Model" starts Qwen2.5-Coder-0.5B from the test models folder without downloading, and @memory answers through it', async () => {
    ensurePackaged();
    // scripts/setup-models.sh installs the 0.5B model into $MODELS_DIR (default .cache/models).
    const modelsDir = path.resolve(process.env.MODELS_DIR ?? path.join(REPO_ROOT, '.cache', 'models'));
    const modelFile = path.join(modelsDir, 'qwen2.5-coder-0.5b-instruct', 'qwen2.5-coder-0.5b-instruct-q4_k_m.gguf');
    expect(fs.existsSync(modelFile), `${modelFile} (run scripts/setup-models.sh)`).toBe(true);
    const servedModel = 'qwen2.5-coder-0.5b-instruct-q4_k_m';
    const fact = 'We deploy the web app with GitHub Actions on every git tag.';
    const ws = makeTempDir('local-model-ws');
    fs.writeFileSync(path.join(ws, 'README.md'), '# Sample project\n');
    // No endpoint, no Copilot: the situation the built-in model is for. The model folder comes from the
    // environment (PROJECT_MEMORY_MODELS_DIR), the model choice from the machine settings.
    const settings = { 'projectMemory.localModel.model': 'qwen2.5-coder-0.5b-instruct' };
    const srv = await startCodeServer({ workspace: ws, vsix: [VSIX], name: 'local-model', settings: { ...settings, 'chat.disableAIFeatures': false }, env: { PROJECT_MEMORY_MODELS_DIR: modelsDir } });
    fs.mkdirSync(path.join(srv.userDataDir, 'Machine'), { recursive: true });
    fs.writeFileSync(path.join(srv.userDataDir, 'Machine', 'settings.json'), JSON.stringify(settings, null, 2));
    const browser = await launchBrowser();
    const p = browser.page;
    try {
      await openWorkbench(p, srv);
      await setTheme(p, 'Default Dark Modern');
      await runCommand(p, 'Project Memory: Use Built-in Local Model');
      // Checking the file's SHA-256 and loading the model take a few seconds: the status bar says so.
      const starting = await waitForStatusBarItem(p, /Local model/);
      await screenshot(p, '8-local-model-starting-dark');
      await waitForNotification(p, `Project Memory now uses the built-in local model ${servedModel}, running on this machine.`);
      await expect.poll(() => starting.textContent(), { timeout: 120_000 }).toMatch(/^\s*Local model\s*$/);
      await screenshot(p, '8-local-model-ready-dark');
      // Found in the models folder: nothing was downloaded into the extension's global storage.
      const globalStorage = path.join(srv.userDataDir, 'User', 'globalStorage', 'project-memory.project-memory');
      expect(filesUnder(globalStorage).filter((f) => f.includes(`${path.sep}models${path.sep}`))).toEqual([]);

      await addMemoryFromPalette(p, fact);
      await waitForNotification(p, 'Remembered:');

      // The language models editor asks every provider for its models: the built-in one is listed.
      await runCommand(p, 'Chat: Manage Language Models');
      const modelsEditor = p.locator('.monaco-workbench').getByText('Language Models', { exact: true }).first();
      await modelsEditor.waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
      await p.getByText(servedModel, { exact: true }).first().waitFor({ state: 'visible', timeout: 60_000 });
      await p.keyboard.press('Escape');
      await modelsEditor.waitFor({ state: 'hidden', timeout: TIMEOUTS.ui });
      await p.keyboard.press('Control+Alt+I');
      const chatInput = p.locator('.interactive-input-part').last();
      await chatInput.waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
      const modelPicker = chatInput.locator('.model-picker-name, .chat-model-picker-item .action-label').first();
      await expect.poll(() => modelPicker.textContent(), { timeout: 60_000 }).toContain(servedModel);
      const tip = p.locator('.part.auxiliarybar').getByText('Set BYOK utility models').locator('xpath=ancestor::*[.//*[contains(@class,"codicon-close")]][1]').locator('.codicon-close').first();
      if (await tip.isVisible()) await tip.click();
      const editor = chatInput.locator('.monaco-editor').first();
      await editor.click();
      await chatInput.locator('.monaco-editor.focused').waitFor({ state: 'attached', timeout: TIMEOUTS.ui });
      await p.keyboard.press('Control+A');
      await p.keyboard.press('Backspace');
      await p.keyboard.type('@mem');
      await p.locator('.suggest-widget .monaco-list-row', { hasText: /^@memory$/ }).first().waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
      await p.keyboard.type('ory How do we deploy the web app?');
      await expect.poll(async () => (await editor.locator('.view-lines').textContent())?.replace(/\s+/g, ' '), { timeout: TIMEOUTS.ui }).toContain('@memory How do we deploy the web app?');
      await chatInput.locator('.chat-submit-button .action-label').first().click();
      const response = p.locator('.interactive-item-container.interactive-response').last();
      // The answer agent ran on the local model: it cites the memory (a trusted link labelled with its text).
      await response.getByText('Memories used:').waitFor({ state: 'visible', timeout: 180_000 });
      await expect(response.getByRole('link', { name: fact }).count()).resolves.toBe(1);
      await expect.poll(() => response.textContent(), { timeout: TIMEOUTS.ui }).toMatch(/GitHub Actions/);
      await screenshot(p, '8-local-model-chat-answer-dark');
      await setTheme(p, 'Default Light Modern');
      await screenshot(p, '8-local-model-chat-answer-light');
    } finally {
      await browser.close();
      await srv.stop();
    }
  });
});
