// End-to-end harness: a real VS Code (code-server, installed by scripts/e2e/setup-tools.sh into
// .tools/e2e/) driven by a real headless Chromium through playwright-core. Every wait here is on
// an observable event (a log line, an HTTP answer, a DOM state, an exposed callback) bounded by a
// deadline; there are no fixed sleeps.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type FrameLocator,
  type Locator,
  type Page,
} from 'playwright-core';

const execFileAsync = promisify(execFile);

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TOOLS_DIR = process.env.E2E_TOOLS_DIR ?? path.join(REPO_ROOT, '.tools/e2e');
const TOOLS_BIN = path.join(TOOLS_DIR, 'node_modules/.bin');
const CODE_SERVER_BIN = path.join(TOOLS_BIN, 'code-server');
export const CHROMIUM_PATH = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';

/** Generous bounds for a 2-core machine; each is a deadline for an event, never a sleep. */
export const TIMEOUTS = {
  serverStart: 90_000,
  workbench: 120_000,
  ui: 30_000,
  extensionHostSuite: 180_000,
  stop: 15_000,
} as const;

/**
 * Built-in themes, by the name of the brief. VS Code 1.139 labels them without "Default " (older
 * releases had it); the picker row is matched either way.
 */
const THEME_BASE_CLASS = {
  'Default Dark Modern': 'vs-dark',
  'Default Light Modern': 'vs',
  'Dark 2026': 'vs-dark',
  'Light 2026': 'vs',
  'Default High Contrast': 'hc-black',
} as const;
export type ThemeName = keyof typeof THEME_BASE_CLASS;

/** Settings every test starts from: no trust prompt, no welcome page, no telemetry, no update nags. */
export const BASE_USER_SETTINGS: Readonly<Record<string, unknown>> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'git.openRepositoryInParentFolders': 'never',
  'window.restoreWindows': 'none',
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

// ---------------------------------------------------------------------------------------------
// Run folder: screenshots and server logs of one run land in .test-output/e2e/<timestamp>/.

let runDirCache: string | undefined;

/** The folder of this run, created on first use (E2E_RUN_DIR set by the vitest global setup). */
export function runDir(): string {
  if (!runDirCache) {
    runDirCache =
      process.env.E2E_RUN_DIR ?? path.join(REPO_ROOT, '.test-output/e2e', timestampForPath(new Date()));
    process.env.E2E_RUN_DIR = runDirCache;
    fs.mkdirSync(runDirCache, { recursive: true });
  }
  return runDirCache;
}

export function timestampForPath(date: Date): string {
  return date.toISOString().replace(/[:.]/g, '-');
}

function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'unnamed';
}

/**
 * The folder all temp folders of this run go under. The vitest global setup creates it and
 * removes it at the end (test forks may be killed without running exit handlers).
 */
export function tempRoot(): string {
  if (!process.env.E2E_TEMP_ROOT) {
    process.env.E2E_TEMP_ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-e2e-'));
  }
  fs.mkdirSync(path.join(process.env.E2E_TEMP_ROOT, 'process-groups'), { recursive: true });
  return process.env.E2E_TEMP_ROOT;
}

/** A fresh temporary directory under tempRoot(). */
export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(tempRoot(), `${prefix}-`));
}

// Each running server's process group is recorded as a file, so the global teardown can kill
// what a crashed test left behind; the exit handler covers a normal exit of the test process.
const liveProcessGroups = new Set<number>();
function trackProcessGroup(pgid: number, alive: boolean): void {
  const marker = path.join(tempRoot(), 'process-groups', String(pgid));
  if (alive) {
    liveProcessGroups.add(pgid);
    fs.writeFileSync(marker, '');
  } else {
    liveProcessGroups.delete(pgid);
    fs.rmSync(marker, { force: true });
  }
}
process.once('exit', () => {
  for (const pgid of liveProcessGroups) killProcessGroup(pgid, 'SIGKILL');
});

/** Signals a whole process group; false when it no longer exists. */
export function killProcessGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// code-server

export function assertToolsInstalled(): void {
  if (!fs.existsSync(CODE_SERVER_BIN)) {
    throw new Error(`code-server is not installed at ${CODE_SERVER_BIN}: run bash scripts/e2e/setup-tools.sh`);
  }
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium is not at ${CHROMIUM_PATH}: run bash scripts/e2e/setup-tools.sh`);
  }
}

/** Environment for code-server: Node 24 first on PATH, XDG folders inside `home`. */
function codeServerEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${TOOLS_BIN}${path.delimiter}${process.env.PATH ?? ''}`,
    XDG_CONFIG_HOME: path.join(home, 'config'),
    XDG_DATA_HOME: path.join(home, 'data'),
    XDG_CACHE_HOME: path.join(home, 'cache'),
    // No extension gallery: tests never reach a marketplace (it is unreachable on CI anyway).
    EXTENSIONS_GALLERY: '{}',
    ...extra,
  };
  // Variables of the test runner that would confuse the Node inside code-server.
  for (const key of ['NODE_OPTIONS', 'VITEST', 'VITEST_WORKER_ID', 'VITEST_POOL_ID', 'ELECTRON_RUN_AS_NODE']) {
    if (!(key in extra)) delete env[key];
  }
  return env;
}

/**
 * Installs a packaged extension into `extensionsDir` with `code-server --install-extension`.
 * Do it before startCodeServer (a running server only picks it up after a window reload).
 */
export async function installVsix(vsixPath: string, extensionsDir: string): Promise<string> {
  assertToolsInstalled();
  if (!fs.existsSync(vsixPath)) throw new Error(`No .vsix at ${vsixPath}`);
  fs.mkdirSync(extensionsDir, { recursive: true });
  const home = makeTempDir('install');
  const { stdout, stderr } = await execFileAsync(
    CODE_SERVER_BIN,
    [
      '--extensions-dir', extensionsDir,
      '--user-data-dir', path.join(home, 'user-data'),
      '--install-extension', path.resolve(vsixPath),
      '--force',
    ],
    { env: codeServerEnv(home), timeout: TIMEOUTS.serverStart, maxBuffer: 16 * 1024 * 1024 },
  );
  const output = `${stdout}${stderr}`;
  if (!/successfully installed/i.test(output)) {
    throw new Error(`Installing ${vsixPath} failed:\n${output}`);
  }
  return output;
}

export interface StartCodeServerOptions {
  /** Folder the workbench opens by default (openWorkbench can open another). */
  workspace?: string;
  /** Where extensions live; a fresh temp folder when omitted. */
  extensionsDir?: string;
  /** Packaged extensions installed into extensionsDir before the server starts. */
  vsix?: string[];
  /** User settings merged over BASE_USER_SETTINGS into <user-data-dir>/User/settings.json. */
  settings?: Record<string, unknown>;
  /** Extra environment of the server and its extension host. */
  env?: Record<string, string>;
  /** Extra code-server arguments. */
  args?: string[];
  /** Name used for the log file in the run folder. */
  name?: string;
}

export interface CodeServer {
  /** Base URL, e.g. http://127.0.0.1:41235/ */
  url: string;
  /** host:port, the authority of vscode-remote:// URIs the workbench uses. */
  authority: string;
  workspace?: string;
  userDataDir: string;
  extensionsDir: string;
  /** Everything the server printed so far. */
  log(): string;
  /** Kills the server's whole process group and waits for it to exit. */
  stop(): Promise<void>;
}

export async function startCodeServer(options: StartCodeServerOptions = {}): Promise<CodeServer> {
  assertToolsInstalled();
  const home = makeTempDir('server');
  const userDataDir = path.join(home, 'user-data');
  const extensionsDir = options.extensionsDir ?? path.join(home, 'extensions');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.writeFileSync(
    path.join(userDataDir, 'User/settings.json'),
    JSON.stringify({ ...BASE_USER_SETTINGS, ...options.settings }, null, 2),
  );
  for (const vsix of options.vsix ?? []) await installVsix(vsix, extensionsDir);

  // Port 0: the kernel picks a free port and code-server prints it, so there is no probe-then-bind race.
  const args = [
    '--bind-addr', '127.0.0.1:0',
    '--auth', 'none',
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--reconnection-grace-time', '10',
    ...(options.args ?? []),
  ];
  if (options.workspace) args.push(options.workspace);

  const logPath = path.join(runDir(), `${safeFileName(options.name ?? 'code-server')}-${Date.now()}.log`);
  const logStream = fs.createWriteStream(logPath);
  let output = '';
  const child: ChildProcess = spawn(CODE_SERVER_BIN, args, {
    cwd: home,
    env: codeServerEnv(home, options.env),
    detached: true, // its own process group, so stop() reaches the extension host and watchers too
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pgid = child.pid;
  if (pgid === undefined) throw new Error(`Could not start ${CODE_SERVER_BIN}`);
  trackProcessGroup(pgid, true);
  const exited = once(child, 'exit');

  const listening = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      logStream.write(text);
      const match = /HTTP server listening on (http:\/\/[^\s]+)/.exec(output);
      if (match) resolve(match[1]);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(new Error(`code-server exited (code ${code}, signal ${signal}) before listening:\n${output}`)),
    );
  });

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      killProcessGroup(pgid, 'SIGTERM');
      const timer = setTimeout(() => killProcessGroup(pgid, 'SIGKILL'), TIMEOUTS.stop);
      await exited.catch(() => undefined);
      clearTimeout(timer);
    }
    // Children (extension host, file watcher, pty host) may outlive the parent for a moment.
    killProcessGroup(pgid, 'SIGKILL');
    trackProcessGroup(pgid, false);
    logStream.end();
  };

  let url: string;
  try {
    url = await withDeadline(listening, TIMEOUTS.serverStart, `code-server to listen (log: ${logPath})`);
    url = url.endsWith('/') ? url : `${url}/`;
    await waitForHttpOk(new URL('healthz', url).toString(), TIMEOUTS.serverStart);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    authority: new URL(url).host,
    workspace: options.workspace,
    userDataDir,
    extensionsDir,
    log: () => output,
    stop,
  };
}

async function waitForHttpOk(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (response.ok) return;
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      lastError = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 200)); // poll interval, not a wait for state
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (${lastError})`);
}

async function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** vscode-remote:// URI of a server-side path, as the workbench of `server` names it. */
export function remoteUri(server: Pick<CodeServer, 'authority'>, fsPath: string): string {
  const posix = path.resolve(fsPath).split(path.sep).map(encodeURIComponent).join('/');
  return `vscode-remote://${server.authority}${posix}`;
}

// ---------------------------------------------------------------------------------------------
// Browser

export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors seen so far, for diagnosing failures. */
  errors: string[];
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<BrowserSession> {
  assertToolsInstalled();
  // launch() gives every browser a fresh temporary profile.
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  return {
    browser,
    context,
    page,
    errors,
    close: async () => {
      await browser.close().catch(() => undefined);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Workbench

export const WORKBENCH = {
  root: '.monaco-workbench',
  statusBar: '.monaco-workbench .part.statusbar',
  activityBar: '.monaco-workbench .part.activitybar',
  quickInput: '.quick-input-widget',
  quickInputBox: '.quick-input-widget .quick-input-box input',
  quickInputRows: '.quick-input-widget .quick-input-list .monaco-list-row',
  notificationToasts: '.notifications-toasts .notification-toast',
  dialog: '.monaco-dialog-box',
} as const;

/**
 * Opens the workbench on `folder` (a path on the server) and waits until it is usable: the
 * workbench parts are rendered and the remote extension host has connected. Trust and welcome
 * prompts are turned off by BASE_USER_SETTINGS; any that shows up anyway is dismissed.
 */
export async function openWorkbench(page: Page, server: CodeServer, folder?: string): Promise<void> {
  const target = new URL(server.url);
  const workspace = folder ?? server.workspace;
  if (workspace) target.searchParams.set('folder', path.resolve(workspace));
  await page.goto(target.toString(), { waitUntil: 'domcontentloaded', timeout: TIMEOUTS.workbench });
  await waitForWorkbench(page);
}

export async function waitForWorkbench(page: Page): Promise<void> {
  await page.locator(WORKBENCH.statusBar).waitFor({ state: 'visible', timeout: TIMEOUTS.workbench });
  await page.locator(WORKBENCH.activityBar).waitFor({ state: 'visible', timeout: TIMEOUTS.workbench });
  // The remote indicator's label turns from "Opening Remote..." into the server's name once the
  // connection to the remote extension host is up.
  await page.waitForFunction(
    () => {
      const indicator = document.querySelector('#status\\.host, .statusbar-item[id*="remote"]');
      const text = indicator?.textContent ?? '';
      return indicator !== null && !/opening|connecting|reconnecting/i.test(text);
    },
    undefined,
    { timeout: TIMEOUTS.workbench },
  );
  await dismissPrompts(page);
}

/** Clicks away a trust dialog, a welcome editor or a stray modal that is on screen right now. */
export async function dismissPrompts(page: Page): Promise<void> {
  const trust = page.locator(WORKBENCH.dialog).getByRole('button', { name: /^Yes, I trust/i }).first();
  if (await trust.isVisible()) await trust.click();
  const welcomeTabs = page.locator('.tabs-container .tab', { hasText: /^(Welcome|Get Started)/ });
  for (const tab of await welcomeTabs.all()) {
    await tab.hover();
    await tab.locator('.action-label.codicon-close').click();
  }
}

/** Opens the command palette with F1, types `title` and runs the entry whose label is `title`. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await withQuickInputRetries(page, `No command "${title}" in the command palette`, (stepTimeout) => runCommandOnce(page, title, stepTimeout));
}

/** One try of runCommand, each step bounded by `stepTimeout`. */
async function runCommandOnce(page: Page, title: string, stepTimeout: number): Promise<void> {
  await openQuickInput(page, 'F1');
  await page.locator(WORKBENCH.quickInputBox).fill(`>${title}`, { timeout: stepTimeout });
  const row = quickPickRow(page, title);
  await row.waitFor({ state: 'visible', timeout: stepTimeout });
  await pickRow(page, row, stepTimeout);
}

/**
 * Runs `attempt` until it succeeds or TIMEOUTS.ui has passed. A quick input closes whenever focus
 * leaves it, and the workbench moves focus on its own (a webview that finishes loading in a
 * focused view takes it), so a palette opened at the wrong moment vanishes mid-typing. Commands of
 * an extension also appear only once its contributions are registered. Either way the cure is to
 * close what is left and open the palette again.
 */
async function withQuickInputRetries(page: Page, what: string, attempt: (stepTimeout: number) => Promise<void>): Promise<void> {
  const deadline = Date.now() + TIMEOUTS.ui;
  for (;;) {
    try {
      await attempt(Math.max(1_000, Math.min(5_000, deadline - Date.now())));
      return;
    } catch (error) {
      if (await page.locator(WORKBENCH.quickInputBox).isVisible()) await page.keyboard.press('Escape');
      if (Date.now() >= deadline) throw new Error(what, { cause: error });
      console.log(`[e2e] retrying the quick input (${what}): ${String(error).split('\n')[0]}`);
    }
  }
}

/**
 * Answers the quick input that is open (an input box or a quick pick): types `text`, then for a
 * pick waits for the item labelled `text` and picks it, for an input box presses Enter.
 */
export async function quickInput(page: Page, text: string, options: { pick?: boolean } = {}): Promise<void> {
  await page.locator(WORKBENCH.quickInputBox).waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
  await page.locator(WORKBENCH.quickInputBox).fill(text);
  if (options.pick) {
    await pickRow(page, quickPickRow(page, text));
  } else {
    await page.locator(WORKBENCH.quickInputBox).press('Enter');
  }
  await page.locator(WORKBENCH.quickInput).waitFor({ state: 'hidden', timeout: TIMEOUTS.ui });
}

/** "Project Memory: Add Memory": the text in its input box, then its kind picked ("No kind" by default). */
export async function addMemoryFromPalette(page: Page, text: string, kind = 'No kind'): Promise<void> {
  await runCommand(page, 'Project Memory: Add Memory');
  await page.locator(WORKBENCH.quickInputBox).waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
  await page.locator(WORKBENCH.quickInputBox).fill(text);
  await page.locator(WORKBENCH.quickInputBox).press('Enter');
  // The same quick input widget comes back as the kind picker.
  await pickRow(page, quickPickRow(page, kind));
  await page.locator(WORKBENCH.quickInput).waitFor({ state: 'hidden', timeout: TIMEOUTS.ui });
}

async function openQuickInput(page: Page, key: string): Promise<void> {
  const box = page.locator(WORKBENCH.quickInputBox);
  if (await box.isVisible()) {
    await page.keyboard.press('Escape');
    await page.locator(WORKBENCH.quickInput).waitFor({ state: 'hidden', timeout: TIMEOUTS.ui });
  }
  await page.keyboard.press(key);
  await box.waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
}

/** The quick pick row whose label is exactly `label` (a palette row may add a keybinding or detail). */
function quickPickRow(page: Page, label: string | RegExp): Locator {
  const exact = typeof label === 'string' ? new RegExp(`^\\s*${escapeRegExp(label)}\\s*$`) : label;
  return page.locator(WORKBENCH.quickInputRows).filter({ has: page.locator('.label-name', { hasText: exact }) }).first();
}

async function pickRow(page: Page, row: Locator, timeout: number = TIMEOUTS.ui): Promise<void> {
  await row.waitFor({ state: 'visible', timeout });
  // Enter runs the focused row; when another row is focused (recently used), click the right one.
  if ((await row.getAttribute('class', { timeout }))?.split(/\s+/).includes('focused')) {
    await page.locator(WORKBENCH.quickInputBox).press('Enter', { timeout });
  } else {
    await row.click({ timeout });
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Waits for a notification toast containing `text` and returns it. */
export async function waitForNotification(page: Page, text: string | RegExp): Promise<Locator> {
  const toast = page.locator(WORKBENCH.notificationToasts, { hasText: text }).first();
  await toast.waitFor({ state: 'visible', timeout: TIMEOUTS.ui });
  return toast;
}

/** Waits for a status bar entry containing `text`. */
export async function waitForStatusBarItem(page: Page, text: string | RegExp): Promise<Locator> {
  const item = page.locator(`${WORKBENCH.statusBar} .statusbar-item`, { hasText: text }).first();
  await item.waitFor({ state: 'visible', timeout: TIMEOUTS.workbench });
  return item;
}

/** Opens a view by its name through "View: Open View" (works for any view container). */
export async function openView(page: Page, viewTitle: string): Promise<void> {
  await withQuickInputRetries(page, `Could not open the view "${viewTitle}"`, async (stepTimeout) => {
    await runCommandOnce(page, 'View: Open View', stepTimeout);
    // The picker opens as quick access with a "view " prefix in the box; typing must keep it.
    const box = page.locator(WORKBENCH.quickInputBox);
    await box.fill(`${await box.inputValue({ timeout: stepTimeout })}${viewTitle}`, { timeout: stepTimeout });
    await pickRow(page, quickPickRow(page, viewTitle), stepTimeout);
    await page.locator(WORKBENCH.quickInput).waitFor({ state: 'hidden', timeout: stepTimeout });
  });
}

/**
 * The content frame of the webview view titled `viewTitle`: opens the view, finds the webview
 * iframe laid over that view's pane (`iframe.webview.ready`) and returns its inner `#active-frame`,
 * where the extension's HTML lives. With `open: false` the view must already be showing (for
 * example because the product revealed it, which is what a test then checks).
 */
export async function webviewFrame(page: Page, viewTitle: string, options: { open?: boolean } = {}): Promise<FrameLocator> {
  if (options.open ?? true) await openView(page, viewTitle);
  const pane = page
    .locator('.pane')
    .filter({ has: page.locator('.pane-header h3.title', { hasText: new RegExp(`^${escapeRegExp(viewTitle)}$`, 'i') }) })
    .first();
  const body = pane.locator('.pane-body');
  await body.waitFor({ state: 'visible', timeout: TIMEOUTS.ui });

  // Webviews are positioned over their pane from outside the pane's DOM subtree, so the iframe is
  // matched by geometry: the ready webview whose rectangle lies within the pane body's.
  const iframes = page.locator('iframe.webview.ready');
  const deadline = Date.now() + TIMEOUTS.ui;
  for (;;) {
    const paneBox = await body.boundingBox();
    const count = await iframes.count();
    for (let index = 0; index < count; index++) {
      const box = await iframes.nth(index).boundingBox();
      if (paneBox && box && box.width > 0 && box.height > 0 && overlaps(paneBox, box)) {
        const outer = page.frameLocator(`iframe.webview.ready >> nth=${index}`);
        const inner = outer.frameLocator('#active-frame');
        await inner.locator('body').waitFor({ state: 'attached', timeout: TIMEOUTS.ui });
        return inner;
      }
    }
    if (Date.now() > deadline) {
      throw new Error(`No ready webview over the view "${viewTitle}" (${count} webview iframes on the page)`);
    }
    await page.waitForTimeout(100); // poll interval while the webview element is created and laid out
  }
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

function overlaps(a: Box, b: Box): boolean {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return width > 0 && height > 0 && width * height >= 0.5 * b.width * b.height;
}

/** Saves a PNG of the page into the run folder and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const file = path.join(runDir(), `${safeFileName(name)}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * Switches the color theme through "Preferences: Color Theme" and waits until the workbench has
 * applied it (its root element carries the theme's base class).
 */
export async function setTheme(page: Page, theme: ThemeName): Promise<void> {
  const baseClass = THEME_BASE_CLASS[theme];
  const label = theme.replace(/^Default (?=(Dark|Light) Modern$)/, '');
  await withQuickInputRetries(page, `Could not pick the color theme "${label}"`, async (stepTimeout) => {
    await runCommandOnce(page, 'Preferences: Color Theme', stepTimeout);
    // The palette closes and the theme picker opens in its place: typing before the swap lands in the
    // closing palette, and the unfiltered picker does not render every theme (its list is virtual).
    await page.waitForFunction(
      () => {
        const box = document.querySelector<HTMLInputElement>('.quick-input-widget .quick-input-box input');
        const title = document.querySelector('.quick-input-widget .quick-input-title')?.textContent ?? '';
        return !!box && box.offsetParent !== null && !box.value.startsWith('>') && /theme/i.test(`${box.placeholder} ${title}`);
      },
      undefined,
      { timeout: stepTimeout },
    );
    await page.locator(WORKBENCH.quickInputBox).fill(label, { timeout: stepTimeout });
    await pickRow(page, quickPickRow(page, new RegExp(`^\\s*(Default )?${escapeRegExp(label)}\\s*$`)), stepTimeout);
    await page.locator(WORKBENCH.quickInput).waitFor({ state: 'hidden', timeout: stepTimeout });
  });
  await page.waitForFunction(
    (expected) => document.querySelector('.monaco-workbench')?.classList.contains(expected) === true,
    baseClass,
    { timeout: TIMEOUTS.ui },
  );
}

// ---------------------------------------------------------------------------------------------
// Extension-host suites (@vscode/test-electron style: a module exporting `run(): Promise<void>`)

export interface ExtensionHostSuiteOptions {
  /** Folder of the extension under development (its package.json). */
  extensionDevelopmentPath: string;
  /** The suite module (or a folder holding index.js) exporting run(). */
  extensionTestsPath: string;
  /** Folder opened as the workspace. */
  workspace: string;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
  /** Extra environment of the server and its extension host. */
  env?: Record<string, string>;
  /** Packaged extensions installed next to the one under development. */
  vsix?: string[];
  timeoutMs?: number;
}

export interface ExtensionHostSuiteResult {
  /** 0 when run() resolved; non-zero when it rejected or the extension host failed. */
  exitCode: number;
  /** Console output of the extension host and the workbench's automation log, in order. */
  log: string[];
  /** The same log, saved in the run folder. */
  logFile: string;
}

/**
 * Runs an extension-test module inside code-server's extension host, the way VS Code's own web
 * integration tests do: the workbench URL carries extensionDevelopmentPath / extensionTestsPath as
 * vscode-remote URIs, and the workbench reports the suite's exit code by calling
 * window.codeAutomationExit, which Playwright exposes to this process.
 */
export async function runExtensionHostSuite(options: ExtensionHostSuiteOptions): Promise<ExtensionHostSuiteResult> {
  const server = await startCodeServer({
    workspace: options.workspace,
    settings: options.settings,
    env: options.env,
    vsix: options.vsix,
    name: `code-server-suite-${safeFileName(path.basename(options.extensionTestsPath))}`,
    args: ['--vscode-option', 'enable-smoke-test-driver'],
  });
  const session = await launchBrowser();
  const log: string[] = [];
  const suiteName = path.basename(options.extensionTestsPath).replace(/\.[cm]?js$/, '');
  const logFile = path.join(runDir(), `extension-host-suite-${safeFileName(suiteName)}-${Date.now()}.log`);
  try {
    let resolveExit!: (code: number) => void;
    const exit = new Promise<number>((resolve) => (resolveExit = resolve));
    await session.page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
      log.push(`[${type}] ${args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')}`);
    });
    await session.page.exposeFunction('codeAutomationExit', (code: number) => {
      resolveExit(Number(code));
    });
    session.page.on('pageerror', (error) => log.push(`[pageerror] ${error.message}`));

    const testsPath = path.resolve(options.extensionTestsPath);
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', remoteUri(server, options.extensionDevelopmentPath)],
      ['extensionTestsPath', remoteUri(server, testsPath)],
      ['enableProposedApi', ''],
      ['skipWelcome', 'true'],
    ]);
    const target = new URL(server.url);
    target.searchParams.set('folder', path.resolve(options.workspace));
    target.searchParams.set('payload', payload);
    await session.page.goto(target.toString(), { waitUntil: 'domcontentloaded', timeout: TIMEOUTS.workbench });

    const timeoutMs = options.timeoutMs ?? TIMEOUTS.extensionHostSuite;
    let exitCode: number;
    try {
      exitCode = await withDeadline(exit, timeoutMs, 'the extension-host suite to exit');
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\n--- suite log ---\n${log.join('\n')}\n--- server log ---\n${server.log()}`,
      );
    } finally {
      fs.writeFileSync(logFile, `${log.join('\n')}\n`);
    }
    return { exitCode, log, logFile };
  } finally {
    await session.close();
    await server.stop();
  }
}
