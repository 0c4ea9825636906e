// Provenance through the CLI's real entry point: `ingest` keeps each event a memory came from; `history`
// prints it, `ask` names it for each cited memory (and the answer model reads it), `list` counts what is kept.
import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../support/runCli';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../support/fakeOpenAIServer';
import { agentReplies } from '../support/extensionHarness';

let dir: string | undefined;
let server: FakeOpenAIServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('provenance in the CLI', () => {
  it('ingest keeps the source event; history, ask and list show it', async () => {
    let answerPrompt = '';
    server = await startFakeOpenAIServer({
      reply: agentReplies({
        extract: (event) => (/Jasper/.test(event) ? ['Maya adopted a dog named Jasper.'] : []),
        answer: (user) => {
          answerPrompt = user;
          return '**Selected memories:** 1\n**Answer:** Jasper';
        },
      }),
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-prov-cli-'));
    const turns = path.join(dir, 'turns.jsonl');
    fs.writeFileSync(turns, JSON.stringify({ text: 'We adopted a beagle yesterday, his name is Jasper!', time: '2023-05-08T13:56:00.000Z', speaker: 'Maya' }) + '\n');
    const common = ['--bank', path.join(dir, 'bank'), '--embedder', 'hashing', '--endpoint', server.url, '--model', 'fake-model'];
    const ingest = await runCli(['ingest', turns, ...common]);
    expect(ingest.code, ingest.err).toBe(0);

    const list = await runCli(['list', ...common]);
    expect(list.out).toContain('Maya adopted a dog named Jasper.');
    expect(list.out).toMatch(/^1 source events kept \(\d+ KiB\)$/m);
    const id = /^(\S+)\s+2023-05-08\s+Maya adopted/m.exec(list.out)![1];

    const history = await runCli(['history', id.slice(0, 8), ...common]);
    expect(history.out).toMatch(/\nSources:\n {2}from \S+.*2023-05-08.*:\n {4}Maya: We adopted a beagle yesterday, his name is Jasper!/);

    const ask = await runCli(['ask', 'What is the name of Maya’s dog?', ...common]);
    expect(ask.code, ask.err).toBe(0);
    expect(ask.out).toMatch(/^Jasper\n {2}cited: .*Maya adopted a dog named Jasper\..*\n {9}from \S+.*2023-05-08/);
    // The answer model read the memory with the words of its source and the source's date.
    expect(answerPrompt).toContain('[1] (8 May 2023) Maya adopted a dog named Jasper.\n    source (');
    expect(answerPrompt).toContain('8 May 2023): Maya: We adopted a beagle yesterday, his name is Jasper!');
  });
});
