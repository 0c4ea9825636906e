// The extension on a shared PostgreSQL + pgvector bank, chosen by one machine setting; the bank id
// comes from the repository's origin, so every clone of the repository meets the same memories.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testing } from '../support/vscodeShim';
import { agentReplies, startHarness, waitFor, type Harness } from '../support/extensionHarness';
import { startPostgres, type PostgresServer } from '../support/postgres';
import { MemoryBank } from '../../src/core/bank/memoryBank';
import { HashingEmbedder } from '../../src/core/embeddings/hashingEmbedder';

/** The built CLI (the test command builds before it runs vitest). */
const CLI = path.resolve(__dirname, '../../dist/cli.js');
let server: PostgresServer;
let h: Harness | undefined;

beforeAll(async () => {
  server = await startPostgres();
}, 180_000);
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

async function addByHand(harness: Harness, text: string): Promise<string> {
  testing.answer(() => text); // input box
  testing.answer((c) => (c.items as { label: string }[]).find((i) => i.label === 'No kind')); // kind picker
  testing.answer(() => undefined); // dismiss the confirmation toast
  return harness.command<string>('projectMemory.addMemory');
}

describe('shared bank on PostgreSQL (projectMemory.storage.postgresUrl)', () => {
  it("stores the workspace's memories in the repository's bank, which another clone then reads", async () => {
    h = await startHarness({ reply: agentReplies({}) });
    testing.setConfig('projectMemory.storage.postgresUrl', server.url);
    execFileSync('git', ['init', '-q'], { cwd: h.workspace });
    execFileSync('git', ['remote', 'add', 'origin', 'https://ada:ghp_tok3n@github.com/acme/shared-service.git'], { cwd: h.workspace });

    const id = await addByHand(h, 'Deploys go through the staging cluster first.');
    const bank = await h.api.pm.getBank();
    expect(bank.storageInfo.kind).toBe('postgres');
    expect(bank.storageInfo.location).toContain('#github.com/acme/shared-service');
    expect(bank.storageInfo.location).not.toContain('ghp_tok3n');

    // Another machine's clone: the same bank id, straight from the database.
    const other = await MemoryBank.open('unused', {
      embedder: new HashingEmbedder(),
      watchIntervalMs: 0,
      storage: { kind: 'postgres', url: server.url, bankId: 'github.com/acme/shared-service' },
    });
    try {
      expect(other.get(id)?.text).toBe('Deploys go through the staging cluster first.');
      expect(other.history(id).map((r) => r.action)).toEqual(['ADD']);
      expect(other.history(id)[0].actor).toBeTruthy(); // per-user attribution
      expect((await other.search('how do deploys work', { topK: 5 })).map((hit) => hit.memory.id)).toContain(id);
    } finally {
      await other.close();
    }
  });

  it('ignores a database URL from workspace settings: a repository cannot send memories elsewhere', async () => {
    h = await startHarness({ reply: agentReplies({}) });
    testing.setConfig('projectMemory.storage.postgresUrl', server.url, 'workspace');
    await addByHand(h, 'The API uses cursor pagination.');
    const bank = await h.api.pm.getBank();
    expect(bank.storageInfo.kind).toBe('file');
  });

  it('switches stores when the setting changes, reopening the bank', async () => {
    h = await startHarness({ reply: agentReplies({}) });
    await addByHand(h, 'Local only memory.');
    expect((await h.api.pm.getBank()).storageInfo.kind).toBe('file');
    testing.setConfig('projectMemory.storage.bankId', 'team/explicit-bank');
    testing.setConfig('projectMemory.storage.postgresUrl', server.url); // the change reopens the bank
    await waitFor(async () => (await h!.api.pm.getBank()).storageInfo.kind === 'postgres', 10_000, 'the bank reopened on postgres');
    const bank = await h.api.pm.getBank();
    expect(bank.storageInfo.location).toContain('#team/explicit-bank');
    expect(bank.size).toBe(0); // a different store: the local memory stays in its files
  });

  it('signs in with the password kept in secret storage (Set Database Password), never in settings', async () => {
    h = await startHarness({ reply: agentReplies({}) });
    testing.setConfig('projectMemory.storage.bankId', 'team/password-bank');
    testing.setConfig('projectMemory.storage.postgresUrl', server.passwordUser.url);
    // Without its password the database refuses; the error says so and offers the command.
    const refused = await h.api.pm.getBank().then(
      () => undefined,
      (err: unknown) => err as Error & { actions?: { command: string }[] },
    );
    expect(refused?.message).toMatch(/refused the login of pm_pw_user: it needs a password, and none was given/);
    expect(refused?.actions?.map((a) => a.command)).toEqual(['projectMemory.setDatabasePassword']);

    testing.answer(() => server.passwordUser.password); // the password input box
    testing.answer(() => undefined); // the confirmation toast
    expect(await h.command('projectMemory.setDatabasePassword')).toBe(true);
    const bank = await h.api.pm.getBank();
    expect(bank.storageInfo.location).toContain('#team/password-bank');
    expect(bank.storageInfo.location).not.toContain(server.passwordUser.password);
    const id = await addByHand(h, 'The password-protected shared bank works.');
    expect(bank.get(id)?.text).toBe('The password-protected shared bank works.');
    // Kept under a name that holds no password; the settings never saw it.
    expect(await h.context.secrets.get(`projectMemory.databasePassword:pm_pw_user@${new URL(server.passwordUser.url).host}/postgres`)).toBe(server.passwordUser.password);
    expect(JSON.stringify([...testing.state.config.entries()])).not.toContain(server.passwordUser.password);
  });

  it('the CLI reaches the same shared bank with --postgres, its id taken from the git origin', () => {
    const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-cli-pg-'));
    execFileSync('git', ['init', '-q'], { cwd: repo });
    execFileSync('git', ['remote', 'add', 'origin', 'git@github.com:acme/cli-shared.git'], { cwd: repo });
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, [CLI, ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, MEMORY_R1_POSTGRES_URL: server.url, USER: 'bob' } });
    cli('add', 'Feature flags live in config/flags.yaml.');
    // A second process, a different folder, the explicit id: the same bank.
    const listed = execFileSync(process.execPath, [CLI, 'list', '--postgres', server.url, '--bank-id', 'github.com/acme/cli-shared'], { cwd: os.tmpdir(), encoding: 'utf8' });
    expect(listed).toContain('Feature flags live in config/flags.yaml.');
    // A wrong URL is refused without being echoed: it may hold a password.
    let stderr = '';
    try {
      execFileSync(process.execPath, [CLI, 'list', '--postgres', 'mysql://ada:s3cr3t-pw@db.example.com/x'], { cwd: repo, encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      stderr = String((err as { stderr?: string }).stderr);
    }
    expect(stderr).toMatch(/needs a postgres:\/\/ \(or postgresql:\/\/\) URL/);
    expect(stderr).not.toContain('s3cr3t-pw');
    fs.rmSync(repo, { recursive: true, force: true });
  });
});
