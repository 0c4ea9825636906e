// Starts the fake OpenAI server with the scripted answer model for the training smoke run; prints its
// URL and runs until it is sent SIGTERM or SIGINT.
import { startFakeOpenAIServer } from '../../test/support/fakeOpenAIServer';
import { scriptedAnswer } from './scriptedAnswerer';

async function main(): Promise<void> {
  const server = await startFakeOpenAIServer({ reply: scriptedAnswer, modelName: 'scripted-answerer' });
  process.stdout.write(`answer model listening on ${server.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await server.close();
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
