// `--timeout` / $MEMORY_R1_TIMEOUT: how long one model request may take, for every CLI command that calls a model.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../support/fakeOpenAIServer';

async function run(argv: string[]): Promise<{ code: number; printed: string }> {
  const printed: string[] = [];
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (printed.push(String(s)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (printed.push(String(s)), true));
  try {
    return { code: await main(argv), printed: printed.join('') };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('CLI request timeout', () => {
  let server: FakeOpenAIServer;
  let dir: string;

  beforeEach(async () => {
    server = await startFakeOpenAIServer();
    server.setFault((p) => (p.endsWith('/chat/completions') ? { delayMs: 1500 } : undefined));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-cli-timeout-'));
  });

  afterEach(async () => {
    delete process.env.MEMORY_R1_TIMEOUT;
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const common = () => ['--bank', path.join(dir, 'bank'), '--endpoint', server.url, '--model', 'fake-model'];

  const ask = ['ask', 'When do we deploy?'];

  it('fails a slower reply with a clear error, and waits for it when the timeout is raised', async () => {
    expect((await run(['add', 'We deploy on Fridays.', ...common()])).code).toBe(0);
    const short = await run([...ask, ...common(), '--timeout', '0.3']);
    expect(short.code).toBe(1);
    expect(short.printed).toMatch(/did not answer in time/);

    const long = await run([...ask, ...common(), '--timeout', '10']);
    expect(long.code).toBe(0);
    expect(long.printed).not.toMatch(/did not answer in time/);
  }, 60_000);

  it('reads $MEMORY_R1_TIMEOUT, and refuses a value that is not a positive number of seconds', async () => {
    expect((await run(['add', 'We deploy on Fridays.', ...common()])).code).toBe(0);
    process.env.MEMORY_R1_TIMEOUT = '0.3';
    expect((await run([...ask, ...common()])).printed).toMatch(/did not answer in time/);
    delete process.env.MEMORY_R1_TIMEOUT;

    const bad = await run([...ask, ...common(), '--timeout', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.printed).toContain('--timeout must be a number of seconds above 0, not "soon"');
  }, 60_000);
});
