// Loads the real side panel page in headless Chromium, wired to the real MemoryPanelProvider and a
// real MemoryBank. The page's acquireVsCodeApi() is faked: what the page posts goes to the provider
// (and is recorded), what the provider posts arrives in the page as a window message, like in VS Code.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { MemoryBank } from '../../src/core/bank/memoryBank';
import { MemoryPanelProvider } from '../../src/extension/sidePanel/memoryPanelProvider';
import type { PageMessage } from '../../src/webview/protocol';
import { FakeLog, FakeWebviewView, Uri } from '../support/vscodeShimWebview';
import { THEMES } from './themes';

const ROOT = path.resolve(__dirname, '../..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.join(ROOT, '.test-output', 'webview');

/** Bundles the page the same way the build does (browser IIFE) into a temp dir. */
export async function buildPageBundle(outDir: string): Promise<string> {
  const outfile = path.join(outDir, 'webview.js');
  await build({
    entryPoints: [path.join(ROOT, 'src/webview/main.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.html': 'text/html' };

/**
 * Serves what the webview loads: /ext/dist/webview.js (the fresh bundle), /ext/dist/codicons/*
 * (from the codicons package, as the build copies them) and /ext/media/*; /panel.html is set per page.
 */
export async function startResourceServer(bundle: string): Promise<{ origin: string; missing: string[]; setHtml(html: string): void; close(): Promise<void> }> {
  let html = '';
  const missing: string[] = [];
  const codicons = path.join(ROOT, 'node_modules/@vscode/codicons/dist');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let file: string | undefined;
    if (url.pathname === '/panel.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(html);
      return;
    }
    if (url.pathname === '/ext/dist/webview.js') file = bundle;
    else if (url.pathname.startsWith('/ext/dist/codicons/')) file = path.join(codicons, path.basename(url.pathname));
    else if (url.pathname.startsWith('/ext/media/')) file = path.join(ROOT, 'media', path.basename(url.pathname));
    if (!file || !fs.existsSync(file)) {
      // VS Code webviews never ask for a favicon; any other miss is a broken reference.
      if (url.pathname !== '/favicon.ico') missing.push(url.pathname);
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    missing,
    setHtml: (h) => (html = h),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 380, height: 820 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export interface PanelSession {
  page: Page;
  view: FakeWebviewView;
  provider: MemoryPanelProvider;
  log: FakeLog;
  /** Every message the page posted, in order. */
  sent: PageMessage[];
  cspViolations: string[];
  pageErrors: string[];
  dialogs: string[];
  /** Waits until the page has posted a message matching `pred` (after index `from`). */
  waitForSent<T extends PageMessage['type']>(type: T, pred?: (m: Extract<PageMessage, { type: T }>) => boolean, from?: number): Promise<Extract<PageMessage, { type: T }>>;
  setTheme(name: keyof typeof THEMES): Promise<void>;
  close(): Promise<void>;
}

export async function openPanel(
  context: BrowserContext,
  server: { origin: string; setHtml(html: string): void },
  bank: MemoryBank,
  opts: { theme?: keyof typeof THEMES } = {},
): Promise<PanelSession> {
  const log = new FakeLog();
  const provider = new MemoryPanelProvider(Uri.file('/ext') as never, async () => bank, log as never);
  const view = new FakeWebviewView(server.origin);
  provider.resolveWebviewView(view as never);
  server.setHtml(view.webview.html);

  const page = await context.newPage();
  const sent: PageMessage[] = [];
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !(m.location().url.endsWith('/favicon.ico'))) pageErrors.push(m.text());
  });
  await page.exposeFunction('__pmToHost', (msg: PageMessage) => {
    sent.push(msg);
    view.fromPage(msg);
  });
  await page.exposeFunction('__pmCspViolation', (v: string) => cspViolations.push(v));
  await page.addInitScript(() => {
    const w = window as unknown as Record<string, unknown>;
    let saved: unknown;
    w.acquireVsCodeApi = () => ({
      postMessage: (m: unknown) => (w.__pmToHost as (m: unknown) => void)(m),
      getState: () => saved,
      setState: (s: unknown) => {
        saved = s;
      },
    });
    document.addEventListener('securitypolicyviolation', (e) => (w.__pmCspViolation as (v: string) => void)(`${e.violatedDirective} ${e.blockedURI}`));
  });
  view.onPost = async (msg) => {
    if (!page.isClosed()) await page.evaluate((m) => window.postMessage(m, '*'), msg).catch(() => undefined);
  };

  const setTheme = async (name: keyof typeof THEMES): Promise<void> => {
    const t = THEMES[name];
    await page.evaluate((theme) => {
      const root = document.documentElement;
      for (const prop of Array.from(root.style)) if (prop.startsWith('--vscode-')) root.style.removeProperty(prop);
      for (const [k, v] of Object.entries(theme.vars)) root.style.setProperty(k, v);
      document.body.classList.remove('vscode-dark', 'vscode-light', 'vscode-high-contrast', 'vscode-high-contrast-light');
      document.body.classList.add(theme.bodyClass);
    }, t);
  };

  const waitForSent = async <T extends PageMessage['type']>(
    type: T,
    pred: (m: Extract<PageMessage, { type: T }>) => boolean = () => true,
    from = 0,
  ): Promise<Extract<PageMessage, { type: T }>> => {
    const end = Date.now() + 10_000;
    for (;;) {
      const found = sent.slice(from).find((m): m is Extract<PageMessage, { type: T }> => m.type === type && pred(m as Extract<PageMessage, { type: T }>));
      if (found) return found;
      if (Date.now() > end) throw new Error(`the page did not send "${type}"; sent: ${sent.slice(from).map((m) => m.type).join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  await page.goto(`${server.origin}/panel.html`);
  await setTheme(opts.theme ?? 'dark');
  return {
    page,
    view,
    provider,
    log,
    sent,
    cspViolations,
    pageErrors,
    dialogs,
    waitForSent,
    setTheme,
    close: async () => {
      view.dispose();
      provider.dispose();
      await page.close();
    },
  };
}
