// Proves the e2e harness on a generated sample extension: installed from a .vsix into a real
// code-server, driven through a real Chromium. The product's scenarios reuse the same helpers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserSession,
  type CodeServer,
  launchBrowser,
  openWorkbench,
  runCommand,
  runExtensionHostSuite,
  screenshot,
  setTheme,
  startCodeServer,
  waitForNotification,
  waitForStatusBarItem,
  webviewFrame,
} from './harness';
import { SAMPLE, type SampleExtension, buildSampleExtension, makeSampleWorkspace } from './sampleExtension';

let sample: SampleExtension;
let workspace: string;

beforeAll(async () => {
  sample = await buildSampleExtension();
  workspace = makeSampleWorkspace();
});

describe('the workbench with the sample extension installed from its .vsix', () => {
  let server: CodeServer | undefined;
  let session: BrowserSession | undefined;

  beforeAll(async () => {
    const started = Date.now();
    server = await startCodeServer({ workspace, vsix: [sample.vsix], name: 'sample-workbench' });
    console.log(`[e2e] code-server (with the .vsix installed) listening after ${Date.now() - started} ms at ${server.url}`);
    session = await launchBrowser();
    await openWorkbench(session.page, server);
    console.log(`[e2e] workbench ready after ${Date.now() - started} ms`);
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && session) {
      const file = await screenshot(session.page, `failed-${context.task.name}`);
      console.log(`[e2e] failure screenshot: ${file}\n${session.errors.slice(-20).join('\n')}`);
    }
  });

  afterAll(async () => {
    await session?.close();
    await server?.stop();
  });

  it('activates the extension (its status bar item appears)', async () => {
    const item = await waitForStatusBarItem(session!.page, SAMPLE.statusBarText);
    await expect(item.textContent()).resolves.toContain(SAMPLE.statusBarText);
  });

  it('runs its command from the command palette and shows its notification', async () => {
    const page = session!.page;
    await runCommand(page, SAMPLE.commandTitle);
    const first = await waitForNotification(page, `${SAMPLE.notificationText} #1`);
    await expect(first.textContent()).resolves.toContain(`${SAMPLE.notificationText} #1`);
    // A second run proves the command really executes each time rather than a toast lingering.
    await runCommand(page, SAMPLE.commandTitle);
    await waitForNotification(page, `${SAMPLE.notificationText} #2`);
  });

  it('renders the webview view, readable through the two iframes', async () => {
    const frame = await webviewFrame(session!.page, SAMPLE.viewTitle);
    await expect(frame.locator('#heading').textContent()).resolves.toBe(SAMPLE.webviewHeading);
    await expect(frame.locator('#folder').textContent()).resolves.toBe(path.basename(workspace));
  });

  it('takes screenshots in the dark and the light theme, and the webview follows the theme', async () => {
    const page = session!.page;
    const frame = await webviewFrame(page, SAMPLE.viewTitle);
    const shots: Record<string, string> = {};
    for (const [theme, webviewClass] of [
      ['Default Dark Modern', 'vscode-dark'],
      ['Default Light Modern', 'vscode-light'],
    ] as const) {
      await setTheme(page, theme);
      await expect
        .poll(() => frame.locator('body').getAttribute('class'), { timeout: 30_000 })
        .toContain(webviewClass);
      shots[theme] = await screenshot(page, `sample-${theme}`);
    }
    const dark = fs.readFileSync(shots['Default Dark Modern']);
    const light = fs.readFileSync(shots['Default Light Modern']);
    expect(dark.subarray(1, 4).toString()).toBe('PNG');
    expect(light.length).toBeGreaterThan(10_000);
    expect(dark.equals(light)).toBe(false);
  });
});

describe('extension-host suites run inside code-server', () => {
  it('reports exit code 0 for a suite whose assertions hold', async () => {
    const started = Date.now();
    const result = await runExtensionHostSuite({
      extensionDevelopmentPath: sample.folder,
      extensionTestsPath: sample.passingSuite,
      workspace,
    });
    console.log(`[e2e] passing suite exited ${result.exitCode} after ${Date.now() - started} ms`);
    expect(result.exitCode, result.log.join('\n')).toBe(0);
    expect(result.log.join('\n')).toContain('sample suite: all assertions passed');
  });

  it('reports a non-zero exit code for a suite with a failing assertion', async () => {
    const result = await runExtensionHostSuite({
      extensionDevelopmentPath: sample.folder,
      extensionTestsPath: sample.failingSuite,
      workspace,
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.log.join('\n')).toContain('deliberately wrong folder count');
  });
});
