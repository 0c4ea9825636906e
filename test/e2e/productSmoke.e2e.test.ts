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
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../support/fakeOpenAIServer';

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
    endpoint = await startFakeOpenAIServer({ reply: () => '{"facts": []}' });
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-e2e-ws-'));
    fs.writeFileSync(path.join(workspace, 'README.md'), '# Sample project\n');
    server = await startCodeServer({
      workspace,
      vsix: [VSIX],
      name: 'product',
      settings: {
        'projectMemory.endpoint.url': endpoint.url,
        'projectMemory.models.extractor': 'fake-model',
        'projectMemory.models.manager': 'fake-model',
        'projectMemory.models.answer': 'fake-model',
      },
    });
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
});
