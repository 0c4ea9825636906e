// The side panel page in a real headless Chromium, driven through the real provider and a real bank.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';
import type { PlannedOperation, SourceKind } from '../../src/core/types';
import { env, executedCommands, l10n } from '../support/vscodeShimWebview';
import { buildPageBundle, CHROMIUM, launchChromium, openPanel, SCREENSHOT_DIR, startResourceServer, type PanelSession } from './harness';

let tmp: string;
let server: Awaited<ReturnType<typeof startResourceServer>>;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let context: BrowserContext;
const banks: MemoryBank[] = [];
let session: PanelSession | undefined;

/** A pseudo-locale made from the English bundle: every string accented and bracketed, placeholders kept. */
const ACCENTS: Record<string, string> = { a: 'á', e: 'é', i: 'ï', o: 'ó', u: 'ú', A: 'Á', E: 'É', O: 'Ó', N: 'Ń' };
const pseudo = (s: string): string => `«${s.replace(/[aeiouAEON]/g, (c) => ACCENTS[c]!)}»`;
function pseudoBundle(): Record<string, string> {
  const english = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../l10n/bundle.l10n.json'), 'utf8')) as Record<string, string>;
  return Object.fromEntries(Object.keys(english).map((k) => [k, pseudo(k)]));
}
const fill = (s: string, ...args: (string | number)[]): string => s.replace(/\{(\d+)\}/g, (_, i: string) => String(args[Number(i)]));

const KINDS: SourceKind[] = ['chat', 'save', 'commit', 'terminal', 'diagnostic'];
const TOPICS = ['the auth service', 'the build', 'the database', 'deploys', 'the test suite', 'logging', 'the CLI', 'caching'];

async function newBank(): Promise<MemoryBank> {
  const dir = fs.mkdtempSync(path.join(tmp, 'bank-'));
  const bank = await MemoryBank.open(dir, { embedder: new HashingEmbedder(32), actor: 'tester', watchIntervalMs: 0 });
  banks.push(bank);
  return bank;
}

/** `n` memories in batches from varied sources, then some updates and deletes to give them history. */
async function seed(bank: MemoryBank, n: number, batch = 500): Promise<void> {
  for (let start = 0; start < n; start += batch) {
    const ops: PlannedOperation[] = [];
    for (let i = start; i < Math.min(n, start + batch); i++) {
      ops.push({ type: 'ADD', text: `Fact ${i}: ${TOPICS[i % TOPICS.length]} uses setting value ${i * 7}.`, tags: i % 10 === 0 ? ['ten', TOPICS[i % TOPICS.length].split(' ').pop()!] : [], reason: 'new fact' });
    }
    const kind = KINDS[(start / batch) % KINDS.length];
    await bank.applyBatch(ops, { source: { kind, ref: kind === 'commit' ? `a1b2c3d${start}` : `src/file${start}.ts` }, model: 'manager-test', fact: `batch from ${start}` });
  }
}

async function rows(s: PanelSession): Promise<number> {
  return s.page.locator('[role=listbox] > [role=option]').count();
}

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}; install it with: apt-get install -y chromium`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-webview-'));
  const bundle = await buildPageBundle(tmp);
  server = await startResourceServer(bundle);
  browser = await launchChromium();
  context = browser.context;
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
});

afterEach(async () => {
  if (session) {
    // Nothing on the page may break the CSP or throw, in any test.
    expect(session.cspViolations).toEqual([]);
    expect(server.missing).toEqual([]);
    expect(session.pageErrors).toEqual([]);
    await session.close();
    session = undefined;
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  for (const b of banks) await b.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('memory side panel in Chromium', () => {
  it('shows an empty state with a hint, and adds a memory by hand', async () => {
    const bank = await newBank();
    session = await openPanel(context, server, bank);
    const { page } = session;
    await session.waitForSent('ready');
    await page.getByText('No memories yet').waitFor();
    await expect(page.locator('.empty .hint').textContent()).resolves.toMatch(/add one by hand/);

    await page.getByRole('button', { name: 'Add a memory' }).first().click();
    await page.getByLabel('New memory text').fill('The staging database is reset every Monday.');
    await page.getByLabel('New memory tags').fill('db, staging');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    const add = await session.waitForSent('add');
    expect(add).toEqual({ type: 'add', text: 'The staging database is reset every Monday.', tags: ['db', 'staging'] });
    await page.locator('[role=option]').first().waitFor();
    expect(bank.list().items.map((m) => m.text)).toEqual(['The staging database is reset every Monday.']);
    // The new memory is selected and its timeline shows the ADD.
    await page.locator('.timeline .record .badge.action-ADD').waitFor();
    await expect(page.locator('.memory-text').textContent()).resolves.toBe('The staging database is reset every Monday.');
    await expect(page.locator('[role=option][aria-selected=true]').count()).resolves.toBe(1);
  });

  it('speaks the display language: every label, button and count comes from the bundle the host passes', async () => {
    const bank = await newBank();
    await seed(bank, 3, 3);
    await bank.side.holdBatch([{ type: 'DELETE', memoryId: bank.list().items[0].id, reason: 'contradicted' }], { fact: 'The old notes are wrong.' }, 'This run would delete 1 of 3 memories.');
    // VS Code loads the bundle once per session; the host reads it for the page and its own notices.
    l10n.bundle = pseudoBundle();
    env.language = 'qps-ploc';
    onTestFinished(() => {
      l10n.bundle = undefined;
      env.language = 'en';
    });
    session = await openPanel(context, server, bank);
    const { page } = session;
    await page.locator('[role=option]').nth(2).waitFor();
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('qps-ploc');
    await expect(page.locator('.summary').textContent()).resolves.toBe(fill(pseudo('{0} active · {1} superseded · {2} deleted — showing {3} of {4}'), 3, 0, 0, 3, 3));
    await expect(page.locator('.pending .section-title').textContent()).resolves.toBe(fill(pseudo('Held for approval ({0})'), 1));
    await expect(page.getByRole('button', { name: pseudo('Approve') }).count()).resolves.toBe(1);
    await expect(page.getByLabel(pseudo('Status filter')).locator('option').first().textContent()).resolves.toBe(fill(pseudo('Active ({0})'), 3));
    await expect(page.locator('[role=option] .badge.status').first().textContent()).resolves.toBe(pseudo('active'));

    // Select a memory: the details, its timeline and the undo buttons are translated too.
    await page.locator('[role=option]').nth(1).click();
    await page.locator('.timeline .record').first().waitFor();
    await expect(page.locator('.timeline').locator('xpath=preceding-sibling::h2[1]').textContent()).resolves.toBe(fill(pseudo('History ({0})'), 1));
    await expect(page.getByRole('button', { name: fill(pseudo('Undo all {0} operations of this batch'), 3) }).count()).resolves.toBe(1);
    await expect(page.locator('.details .meta-grid dt').first().textContent()).resolves.toBe(pseudo('Status'));

    // Every accessible name, placeholder and button text is a translated string, not English left over.
    const untranslated = await page.evaluate(() => {
      const out: string[] = [];
      const wrapped = (v: string): boolean => v.startsWith('«') && v.endsWith('»');
      for (const el of Array.from(document.querySelectorAll('[aria-label], [placeholder]'))) {
        for (const a of ['aria-label', 'placeholder']) {
          const v = el.getAttribute(a);
          if (v !== null && !wrapped(v)) out.push(`${el.tagName} ${a}=${v}`);
        }
      }
      for (const b of Array.from(document.querySelectorAll('button'))) {
        const v = (b.textContent ?? '').trim();
        if (v && !wrapped(v)) out.push(`button text ${v}`);
      }
      return out;
    });
    expect(untranslated).toEqual([]);

    // The host's own words in the panel (notices) follow the same bundle.
    await page.getByRole('button', { name: pseudo('Pin memory') }).click();
    await page.getByRole('button', { name: pseudo('Unpin memory') }).waitFor();
    await page.getByRole('button', { name: pseudo('Delete memory') }).click();
    await page.waitForFunction((text) => document.querySelector('.notice')?.textContent === text, pseudo('Memory deleted. Undo is in its history.'));
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'panel-pseudo-locale.png') });
  });

  it('lists, searches, selects by keyboard, and shows the timeline of a superseding update', async () => {
    const bank = await newBank();
    await seed(bank, 400, 100);
    const target = bank.list({ text: 'Fact 42:' }).items[0];
    await bank.applyBatch([{ type: 'UPDATE', memoryId: target.id, text: 'Fact 42: the database uses setting value 999 since March.', reason: 'newer value' }], {
      source: { kind: 'chat', ref: 'turn-17' },
      model: 'manager-test',
      fact: 'The database setting is now 999.',
    });
    session = await openPanel(context, server, bank);
    const { page } = session;
    await page.locator('[role=option]').first().waitFor();
    expect(await rows(session)).toBe(100);
    await expect(page.locator('.summary').textContent()).resolves.toMatch(/400 active · 1 superseded · 0 deleted — showing 100 of 400/);

    // Search is debounced: one query for the final text, and the list follows.
    const from = session.sent.length;
    await page.getByLabel('Search memories').pressSequentially('Fact 42:', { delay: 15 });
    const query = await session.waitForSent('query', (m) => m.query.text === 'Fact 42:', from);
    expect(query.query).toMatchObject({ status: 'active', offset: 0, limit: 100 });
    expect(session.sent.slice(from).filter((m) => m.type === 'query').length).toBeLessThan(3);
    await page.waitForFunction(() => document.querySelectorAll('[role=option]').length === 1);

    // Keyboard: ArrowDown from the search box into the list, Enter selects.
    await page.getByLabel('Search memories').press('ArrowDown');
    await page.keyboard.press('Enter');
    const select = await session.waitForSent('select');
    // The update superseded the old memory: the active one found is its successor.
    const successor = bank.get(target.id)!.supersededBy!;
    expect(select.id).toBe(successor);
    await page.locator('.timeline .record').first().waitFor();
    const records = page.locator('.timeline .record');
    await expect(records.count()).resolves.toBe(1);
    // The successor's one record: the UPDATE that created it, naming the memory it replaces.
    const update = records.first();
    await expect(update.locator('.badge.action-UPDATE').count()).resolves.toBe(1);
    const meta = await update.locator('.record-meta').textContent();
    expect(meta).toContain('newer value');
    expect(meta).toContain('The database setting is now 999.');
    expect(meta).toContain(`memory ${target.id.slice(0, 8)}`);
    expect(meta).toContain('chat · turn-17');
    expect(meta).toContain('manager-test');
    await expect(update.getByRole('button', { name: /Undo UPDATE/ }).isEnabled()).resolves.toBe(true);
    // An UPDATE and its SUPERSEDE are one operation: no batch to undo together.
    await expect(update.getByRole('button', { name: /Undo all/ }).count()).resolves.toBe(0);
  });

  it('undoes a batch of several operations together from one record', async () => {
    const bank = await newBank();
    await seed(bank, 3, 3);
    const target = bank.list().items[1];
    session = await openPanel(context, server, bank);
    const { page } = session;
    await page.locator('[role=option]').nth(1).click();
    await session.waitForSent('select', (m) => m.id === target.id);
    await page.locator('.timeline .record').first().waitFor();
    await page.locator('.timeline .record').first().getByRole('button', { name: 'Undo all 3 operations of this batch' }).click();
    const sent = await session.waitForSent('undoBatch');
    expect(sent.batchId).toBe(bank.history(target.id)[0].batchId);
    await page.waitForFunction(() => /0 active/.test(document.querySelector('.summary')?.textContent ?? ''));
    expect(bank.list({ status: 'deleted' }).total).toBe(3);
  });

  it('edits, pins, deletes and undoes through the page', async () => {
    const bank = await newBank();
    await seed(bank, 300, 100);
    const target = bank.list().items[5];
    session = await openPanel(context, server, bank);
    const { page } = session;
    await page.locator('[role=option]').nth(5).click();
    await session.waitForSent('select', (m) => m.id === target.id);
    await page.locator('.timeline .record').first().waitFor();

    // Edit inline.
    await page.getByRole('button', { name: 'Edit memory' }).click();
    const area = page.getByLabel('Memory text', { exact: true });
    await area.fill(target.text.replace('uses setting', 'now uses the new setting'));
    await page.getByRole('button', { name: 'Save' }).click();
    const edit = await session.waitForSent('edit');
    expect(edit.id).toBe(target.id);
    await page.locator('.timeline .badge.action-EDIT').waitFor();
    expect(bank.get(target.id)!.text).toContain('now uses the new setting');
    await expect(page.locator('.timeline .record').first().locator('ins').allTextContents()).resolves.toEqual(['now ', ' the new']);

    // Pin: pinned memories sort first and carry the pin mark.
    await page.getByRole('button', { name: 'Pin memory' }).click();
    await session.waitForSent('pin', (m) => m.id === target.id);
    await page.locator('.timeline .badge.action-PIN').waitFor();
    await page.waitForFunction(() => document.querySelector('[role=option]')?.classList.contains('pinned'));
    expect(bank.get(target.id)!.pinned).toBe(true);
    await expect(page.locator('[role=option]').first().getAttribute('aria-selected')).resolves.toBe('true');

    // Delete (soft): gone from the active list, counted as deleted, still selected with its history.
    await page.getByRole('button', { name: 'Delete memory' }).click();
    await session.waitForSent('delete', (m) => m.id === target.id);
    await page.waitForFunction(() => /1 deleted/.test(document.querySelector('.summary')?.textContent ?? ''));
    expect(bank.get(target.id)!.status).toBe('deleted');
    await page.locator('.timeline .badge.action-DELETE').waitFor();
    await expect(page.getByRole('button', { name: 'Restore memory' }).count()).resolves.toBe(1);

    // Undo the delete from its timeline entry.
    const del = bank.history(target.id).find((r) => r.action === 'DELETE')!;
    await page.locator('.timeline .record').first().getByRole('button', { name: /Undo DELETE/ }).click();
    const undo = await session.waitForSent('undo');
    expect(undo.opId).toBe(del.opId);
    await page.locator('.timeline .badge.action-UNDO').waitFor();
    expect(bank.get(target.id)!.status).toBe('active');
    await page.waitForFunction(() => /0 deleted/.test(document.querySelector('.summary')?.textContent ?? ''));
    await expect(page.locator('.timeline .badge.undone').count()).resolves.toBe(1);

    // Status filter: deleted shows nothing now; the page asks the host, not its cache.
    await page.getByLabel('Status filter').selectOption('deleted');
    await session.waitForSent('query', (m) => m.query.status === 'deleted');
    await page.getByText('No memories match these filters.').waitFor();
  });

  it('shows each memory\'s kind, filters by kind, and relabels a kind by hand (undoable)', async () => {
    const bank = await newBank();
    const rule = await bank.addManual('HTTP handlers are named with a handle prefix.', { kind: 'convention' });
    await bank.addManual('Ana moved to Lisbon.', { kind: 'other' });
    session = await openPanel(context, server, bank);
    const { page } = session;
    // Added by hand with its kind.
    await page.getByRole('button', { name: 'Add a memory' }).click();
    await page.getByLabel('New memory text').fill('The team picked Postgres for JSONB.');
    await page.getByLabel('New memory kind').selectOption('decision');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await session.waitForSent('add', (m) => m.kind === 'decision');
    await page.locator('[role=option]').nth(2).waitFor();
    expect(bank.list({ kinds: ['decision'] }).items.map((m) => m.text)).toEqual(['The team picked Postgres for JSONB.']);
    // A badge for every kind but "other".
    await expect(page.locator('[role=option] .badge.kind').allTextContents()).resolves.toEqual(['decision', 'convention']);

    await page.getByLabel('Kind filter').selectOption('convention');
    await session.waitForSent('query', (m) => m.query.kind === 'convention');
    await page.waitForFunction(() => document.querySelectorAll('[role=option]').length === 1);
    await expect(page.locator('[role=option]').first().textContent()).resolves.toContain('handle prefix');

    await page.locator('[role=option]').first().click();
    await session.waitForSent('select', (m) => m.id === rule.memoryId);
    await page.getByLabel('Kind', { exact: true }).selectOption('workflow');
    await session.waitForSent('setKind', (m) => m.id === rule.memoryId && m.kind === 'workflow');
    await page.locator('.timeline .badge.action-EDIT').waitFor();
    expect(bank.get(rule.memoryId)!.kind).toBe('workflow');
    // The history keeps the change: undo brings the kind back.
    await bank.undo(bank.history(rule.memoryId).at(-1)!.opId);
    expect(bank.get(rule.memoryId)!.kind).toBe('convention');
  });

  it('shows where a memory came from: the kept event behind a disclosure, and opens it', async () => {
    const bank = await newBank();
    const [rec] = await bank.applyBatch([{ type: 'ADD', text: 'CI runs on Node 22.' }], {
      source: { kind: 'commit', ref: '3f2a9c1d0e5b7a8c9d0e1f2a3b4c5d6e7f8a9b0c', event: 'ev-commit-1' },
      eventTime: '2026-04-11T09:30:00.000Z',
      origin: { text: 'Switch CI to Node 22\n\nNode 20 leaves maintenance in April; <img src=x onerror=window.__pwned=9>', time: '2026-04-11T09:30:00.000Z' },
    });
    session = await openPanel(context, server, bank);
    const { page } = session;
    await page.locator('[role=option]').first().click();
    await session.waitForSent('select', (m) => m.id === rec.memoryId);
    const summary = page.locator('.source-event summary');
    await expect(summary.textContent()).resolves.toBe('from: commit 3f2a9c1, 2026-04-11');
    // Collapsed until asked; then the event's text, as text (markup in it is not run).
    await expect(page.locator('.source-text').isVisible()).resolves.toBe(false);
    await summary.click();
    await expect(page.locator('.source-text').textContent()).resolves.toContain('Node 20 leaves maintenance in April');
    await expect(page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).resolves.toBeUndefined();
    executedCommands.length = 0;
    await page.getByRole('button', { name: 'Open source' }).click();
    await session.waitForSent('openSource', (m) => m.id === rec.memoryId);
    await expect.poll(() => executedCommands.map((c) => [c.command, ...c.args])).toContainEqual(['projectMemory.openMemorySource', rec.memoryId]);
  });

  it("says when the bank is a team's shared one, and where", async () => {
    const bank = await newBank();
    await bank.addManual('Deploys go through staging first.');
    // The same bank seen as a postgres-backed shared bank: only where it lives differs for the panel.
    const shared = Object.create(bank, {
      storageInfo: { value: { kind: 'postgres', location: 'postgres://ada@db.example.com:5432/memory#github.com/acme/shop' } },
    }) as typeof bank;
    session = await openPanel(context, server, shared);
    const line = session.page.locator('.shared-bank');
    await line.waitFor();
    await expect(line.textContent()).resolves.toBe('Shared bank: github.com/acme/shop');
    await expect(line.getAttribute('title')).resolves.toBe('Shared bank on postgres://ada@db.example.com:5432/memory#github.com/acme/shop');
    await session.page.screenshot({ path: path.join(SCREENSHOT_DIR, 'panel-shared-bank.png') });
    await session.close();

    // A bank of files on this machine shows no such line.
    session = await openPanel(context, server, bank);
    await session.page.locator('[role=option]').first().waitFor();
    await expect(session.page.locator('.shared-bank').isVisible()).resolves.toBe(false);
  });

  it('renders HTML and script payloads as text and runs none of them', async () => {
    const bank = await newBank();
    const payloads = [
      '<img src=x onerror="window.__pwned=1;alert(1)">',
      '<script>window.__pwned=2</script>',
      '"><svg onload="window.__pwned=3">',
      '<a href="javascript:window.__pwned=4">click</a>',
      '<style>body{display:none}</style><iframe srcdoc="<script>parent.__pwned=5</script>"></iframe>',
    ];
    for (const p of payloads) await bank.addManual(p, { tags: ['<b>tag</b>', '<img src=y onerror=window.__pwned=6>'], source: { kind: 'chat', ref: '<script>window.__pwned=7</script>' } });
    const first = bank.list().items[0];
    await bank.edit(first.id, `${first.text} <img src=z onerror="window.__pwned=8">`);
    session = await openPanel(context, server, bank);
    const { page } = session;
    await page.locator('[role=option]').nth(payloads.length - 1).waitFor();
    for (let i = 0; i < payloads.length; i++) {
      await page.locator('[role=option]').nth(i).click();
      await page.locator('.timeline .record').first().waitFor();
    }
    // Select the edited one so the diff renders payload text too.
    await page.locator('[role=option]').first().click();
    await page.locator('.timeline .badge.action-EDIT').waitFor();
    await page.waitForTimeout(200); // let any injected handler fire if one had been created

    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(session.dialogs).toEqual([]);
    const counts = await page.evaluate(() => ({
      img: document.querySelectorAll('img').length,
      svg: document.querySelectorAll('svg').length,
      iframe: document.querySelectorAll('iframe').length,
      a: document.querySelectorAll('a').length,
      scripts: document.querySelectorAll('script').length,
      styles: document.querySelectorAll('style').length,
      bodyVisible: getComputedStyle(document.body).display !== 'none',
    }));
    expect(counts).toEqual({ img: 0, svg: 0, iframe: 0, a: 0, scripts: 1, styles: 0, bodyVisible: true });
    const listText = await page.locator('[role=listbox]').textContent();
    for (const p of payloads) expect(listText).toContain(p);
    const tagsText = await page.locator('[role=option]').first().locator('.tags').textContent();
    expect(tagsText).toContain('<b>tag</b>');
    const diffText = await page.locator('.timeline .record').first().locator('.diff').textContent();
    expect(diffText).toContain('<img src=z onerror="window.__pwned=8">');
    await expect(page.locator('.details .source').first().textContent()).resolves.toContain('<script>window.__pwned=7</script>');
  });

  it('reveals a memory the host asks for and follows changes made outside the page', async () => {
    const bank = await newBank();
    await seed(bank, 250, 125);
    const far = bank.list({ offset: 240, limit: 1 }).items[0];
    session = await openPanel(context, server, bank);
    const { page } = session;
    await page.locator('[role=option]').first().waitFor();
    await session.provider.reveal(far.id);
    await page.waitForFunction((text) => document.querySelector('.memory-text')?.textContent === text, far.text);
    expect(session.view.shownCount).toBe(1);

    // Another part of the extension changes the bank: the page updates and keeps its selection.
    await bank.edit(far.id, 'Revealed and then edited elsewhere.');
    await page.waitForFunction(() => document.querySelector('.memory-text')?.textContent === 'Revealed and then edited elsewhere.');
    await bank.addManual('A brand new fact from the chat.');
    await page.waitForFunction(() => /251 active/.test(document.querySelector('.summary')?.textContent ?? ''));
    await expect(page.locator('.memory-text').textContent()).resolves.toBe('Revealed and then edited elsewhere.');
  });

  it('handles 10,000 memories: first page, paging by scroll, search across all, keyboard', async () => {
    const bank = await newBank();
    await seed(bank, 10_000, 2500);
    expect(bank.size).toBe(10_000);
    session = await openPanel(context, server, bank);
    const { page } = session;
    const t0 = Date.now();
    await page.locator('[role=option]').nth(99).waitFor();
    const firstPageMs = Date.now() - t0;
    expect(await rows(session)).toBe(100);

    // Scroll through the first 2,000 (20 pages); every page is the same request, so more adds nothing.
    const t1 = Date.now();
    for (let guard = 0; guard < 40; guard++) {
      const n = await rows(session);
      if (n >= 2_000) break;
      await page.locator('.list-scroller').evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await page.waitForFunction((prev) => document.querySelectorAll('[role=option]').length > prev, n);
    }
    const scrollMs = Date.now() - t1;
    expect(await rows(session)).toBe(2_000);
    await expect(page.getByRole('button', { name: /Load more \(8,000 more\)/ }).isVisible()).resolves.toBe(true);
    const queries = session.sent.filter((m) => m.type === 'query');
    expect(queries.every((m) => m.type === 'query' && m.query.limit === 100)).toBe(true);
    expect(queries.map((m) => m.type === 'query' && m.query.offset)).toEqual(Array.from({ length: 19 }, (_, i) => (i + 1) * 100));

    // Keyboard End then Enter selects the last loaded row.
    await page.locator('[role=listbox]').focus();
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    const last = bank.list({ offset: 1999, limit: 1 }).items[0];
    await session.waitForSent('select', (m) => m.id === last.id);
    await page.locator('.timeline .record').first().waitFor();

    // A search runs over all 10,000 on the host and replaces the 2,000 rows.
    const t2 = Date.now();
    await page.getByLabel('Search memories').fill('Fact 9876:');
    await page.waitForFunction(() => document.querySelectorAll('[role=option]').length === 1);
    const searchMs = Date.now() - t2;
    await expect(page.locator('[role=option]').first().textContent()).resolves.toContain('Fact 9876:');
    console.log(`[panel 10k] first page ${firstPageMs} ms; 20 pages by scrolling ${scrollMs} ms; search over 10k incl. debounce ${searchMs} ms`);
  });

  it('looks native in dark, light and high-contrast themes (screenshots)', async () => {
    const bank = await newBank();
    await seed(bank, 30, 10);
    const items = bank.list().items;
    await bank.setPinned(items[3].id, true);
    await bank.setTags(items[3].id, ['architecture', 'db']);
    await bank.applyBatch([{ type: 'UPDATE', memoryId: items[3].id, text: 'Fact 23: the database now uses connection pooling with 20 connections.', reason: 'the chat said the pool size changed' }], {
      source: { kind: 'chat', ref: 'turn-4' },
      model: 'memory-r1-manager',
      fact: 'We moved the database to a pool of 20 connections.',
    });
    await bank.delete(items[7].id);
    await bank.side.holdBatch([{ type: 'DELETE', memoryId: items[1].id, reason: 'contradicted' }, { type: 'DELETE', memoryId: items[2].id, reason: 'contradicted' }], { fact: 'The old build notes are wrong.' }, 'This run would delete 2 of 30 memories.');
    session = await openPanel(context, server, bank);
    const { page } = session;
    await page.locator('[role=option]').first().waitFor();
    await page.locator('[role=option]').first().click();
    await page.locator('.timeline .badge.action-UPDATE').waitFor();
    await page.locator('[role=listbox]').focus();
    await page.evaluate(() => document.fonts.ready);
    const glyphs = await page.evaluate(() => document.fonts.check('16px codicon'));
    expect(glyphs).toBe(true);
    for (const theme of ['dark', 'light', 'high-contrast'] as const) {
      await session.setTheme(theme);
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `panel-${theme}.png`) });
    }
    // Colours really come from the theme variables.
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(0, 0, 0)');
    await session.setTheme('light');
    await expect(page.evaluate(() => getComputedStyle(document.body).backgroundColor)).resolves.toBe('rgb(248, 248, 248)');
  });
});
