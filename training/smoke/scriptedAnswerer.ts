// A scripted answer model for tests and the training smoke run. It reads only the memories in its
// prompt (never the gold answers): for "What is <Name>'s <thing>?" it finds the latest memory where
// <Name> says "my <thing> is <value>" and answers <value>.
import { roleOf, type FakeChatRequest } from '../../test/support/fakeOpenAIServer';

export function scriptedAnswer(req: FakeChatRequest): string {
  if (roleOf(req) !== 'answer') return '{}';
  const user = req.messages.at(-1)?.content ?? '';
  const q = /Question: What is (\w+)'s (.+?)\?/.exec(user);
  if (!q) return '**Selected memories:** none\n**Answer:** I do not know.';
  const [, name, thing] = q;
  const wanted = new RegExp(`\\bmy ${escape(thing)} is ([^.!?]+)`, 'i');
  let best: { key: string; date: string; value: string } | undefined;
  for (const line of user.split('\n')) {
    const m = /^\[(\d+)\](?: \(([^)]*)\))? (\w+): (.*)$/.exec(line);
    if (!m || m[3] !== name) continue;
    const v = wanted.exec(m[4]);
    if (v && (!best || (m[2] ?? '') >= best.date)) best = { key: m[1], date: m[2] ?? '', value: v[1].trim() };
  }
  if (!best) return '**Selected memories:** none\n**Answer:** I do not know.';
  return `**Selected memories:** ${best.key}\n**Answer:** ${best.value}`;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
