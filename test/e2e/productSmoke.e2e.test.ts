// The packaged extension in a real code-server, driven through Chromium: it activates, its side panel
// appears, a memory added from the command palette shows in the panel with an ADD record in its history.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserSession,
  type CodeServer,
  REPO_ROOT,
  launchBrowser,
  openWorkbench,
  quickInput,
  runCommand,
  screenshot,
  setTheme,
  startCodeServer,
  webviewFrame,
} from './harness';
import { roleOf, factIn, startFakeOpenAIServer, type FakeOpenAIServer, type FakeChatRequest } from '../support/fakeOpenAIServer';

// Synthetic, shaped like a GitHub token; assembled at run time so no token-shaped literal sits in the repo.
const SECRET = 'ghp_' + 'Zq7Lm2Xc9Vb4Nw8Rt1Yp5Hs3Kd6Fg0Jx2Ae4';

/** Extractor: every line starting with "Decision:" is a fact; manager: ADD; answer: nothing. */
function scriptedModel(req: FakeChatRequest): string {
  const role = roleOf(req);
  if (role === 'extractor') {
    const text = req.messages.at(-1)!.content;
    return JSON.stringify({ facts: [...text.matchAll(/Decision: ([^\n]+)/g)].map((m) => m[1].trim()) });
  }
  if (role === 'manager') return JSON.stringify({ memory: [{ id: 'new', text: factIn(req), event: 'ADD' }] });
  return '**Selected memories:** none\n**Answer:** I do not know.';
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

const VSIX = path.join(REPO_ROOT, 'dist', 'project-memory.vsix');
const FACT = 'The build is bundled with esbuild into dist/extension.js.';

describe('Project Memory in code-server', () => {
  let endpoint: FakeOpenAIServer;
  let server: CodeServer | undefined;
  let session: BrowserSession | undefined;

  beforeAll(async () => {
    // The .vsix under test is built from this checkout.
    execFileSync('npm', ['run', 'package'], { cwd: REPO_ROOT, stdio: 'inherit' });
    expect(fs.existsSync(VSIX)).toBe(true);
    endpoint = await startFakeOpenAIServer({ reply: scriptedModel });
    const endpointSettings = {
      'projectMemory.endpoint.url': endpoint.url,
      'projectMemory.models.extractor': 'fake-model',
      'projectMemory.models.manager': 'fake-model',
      'projectMemory.models.answer': 'fake-model',
    };
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-e2e-ws-'));
    fs.writeFileSync(path.join(workspace, 'README.md'), '# Sample project\n');
    fs.writeFileSync(path.join(workspace, 'notes.md'), '# Notes\n');
    server = await startCodeServer({
      workspace,
      vsix: [VSIX],
      name: 'product',
      settings: endpointSettings,
    });
    // In a remote window (code-server) machine-scoped settings come from the machine's settings file,
    // not the user's: that is where a user of code-server sets the endpoint too.
    fs.mkdirSync(path.join(server.userDataDir, 'Machine'), { recursive: true });
    fs.writeFileSync(path.join(server.userDataDir, 'Machine', 'settings.json'), JSON.stringify(endpointSettings, null, 2));
    session = await launchBrowser();
    await openWorkbench(session.page, server);
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

  it('activates: the Memories side panel renders its page', async () => {
    await setTheme(session!.page, 'Default Dark Modern');
    const panel = await webviewFrame(session!.page, 'Memories');
    await panel.locator('input').first().waitFor({ state: 'visible', timeout: 60_000 });
    await screenshot(session!.page, 'panel-empty-dark');
  });

  it('adds a memory from the command palette; the panel lists it and its history shows ADD', async () => {
    const page = session!.page;
    await runCommand(page, 'Project Memory: Add Memory');
    await quickInput(page, FACT);
    const panel = await webviewFrame(page, 'Memories');
    const row = panel.getByText(FACT).first();
    await row.waitFor({ state: 'visible', timeout: 60_000 });
    await row.click();
    const add = panel.locator('.timeline .badge.action-ADD').first();
    await add.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await add.textContent()).toBe('ADD');
    await screenshot(page, 'panel-memory-history-dark');
    await setTheme(page, 'Default Light Modern');
    await (await webviewFrame(page, 'Memories')).getByText(FACT).first().waitFor({ state: 'visible', timeout: 30_000 });
    await screenshot(page, 'panel-memory-history-light');
    // Adding by hand makes no model call.
    expect(endpoint.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(0);
  });

  it('captures a saved file as a memory, and the secret in it reaches neither the bank nor the model server', async () => {
    const page = session!.page;
    await page.keyboard.press('Control+P');
    await quickInput(page, 'notes.md', { pick: true });
    const lines = page.locator('.editor-instance .monaco-editor .view-lines').first();
    await lines.waitFor({ state: 'visible', timeout: 30_000 });
    await lines.click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type(`\nDecision: we deploy the docs site with GitHub Pages.\nGITHUB_TOKEN=${SECRET}\n`);
    await page.keyboard.press('Control+S');
    const panel = await webviewFrame(page, 'Memories');
    await panel.getByText('we deploy the docs site with GitHub Pages.').first().waitFor({ state: 'visible', timeout: 90_000 });
    await screenshot(page, 'captured-save-light');
    const sent = JSON.stringify(endpoint.requests.map((r) => r.body));
    expect(sent).toContain('GitHub Pages');
    expect(sent).not.toContain(SECRET);
    const bankFiles = filesUnder(server!.userDataDir).filter((f) => /project-memory/i.test(f));
    expect(bankFiles.some((f) => f.endsWith('history.jsonl'))).toBe(true);
    for (const f of bankFiles) expect(fs.readFileSync(f, 'latin1').includes(SECRET), f).toBe(false);
  });
});
