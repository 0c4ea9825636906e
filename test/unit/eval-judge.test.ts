import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCURACY_PROMPT, buildJudgeMessages, judge, parseJudgeLabel } from '../../src/core/eval/judge';
import { OpenAIChatModel } from '../../src/core/llm/openaiChatModel';
import { LlmError } from '../../src/core/errors';
import { startFakeOpenAIServer, type FakeOpenAIServer } from '../support/fakeOpenAIServer';

describe('buildJudgeMessages', () => {
  it('fills Mem0 ACCURACY_PROMPT into one user message', () => {
    const messages = buildJudgeMessages('Where did I go?', 'Hawaii', 'You went to {Hawaii} last May');
    expect(messages).toHaveLength(1);
    expect(messages[0].role).toBe('user');
    const content = messages[0].content;
    expect(content).toContain('Question: Where did I go?\nGold answer: Hawaii\nGenerated answer: You went to {Hawaii} last May\n');
    expect(content).toContain('you should be generous with your grading');
    expect(content).toContain('in a json format with the key as "label"');
    expect(content).not.toMatch(/\{(question|gold_answer|generated_answer)\}/);
    expect(content.length).toBe(ACCURACY_PROMPT.length - '{question}{gold_answer}{generated_answer}'.length + 'Where did I go?HawaiiYou went to {Hawaii} last May'.length);
  });
});

describe('parseJudgeLabel', () => {
  it('reads JSON, fenced JSON and JSON inside prose', () => {
    expect(parseJudgeLabel('{"label": "CORRECT"}')).toBe('CORRECT');
    expect(parseJudgeLabel('```json\n{"label":"WRONG"}\n```')).toBe('WRONG');
    expect(parseJudgeLabel('The answer names the same city. {"label": "correct"}')).toBe('CORRECT');
    expect(parseJudgeLabel('<think>maybe WRONG</think>{"Label": " wrong "}')).toBe('WRONG');
  });

  it('falls back to a lone label word in prose', () => {
    expect(parseJudgeLabel('Same date in another format, so CORRECT')).toBe('CORRECT');
    expect(parseJudgeLabel('label: wrong')).toBe('WRONG');
    expect(parseJudgeLabel('Different topic. WRONG.')).toBe('WRONG');
  });

  it('gives undefined when there is no clear label', () => {
    expect(parseJudgeLabel('')).toBeUndefined();
    expect(parseJudgeLabel('CORRECT or WRONG, hard to say')).toBeUndefined();
    expect(parseJudgeLabel('{"label": "MAYBE"}')).toBeUndefined();
    expect(parseJudgeLabel('the answer is correct')).toBeUndefined();
  });
});

// The project's fake OpenAI server: a real HTTP server replying from a script.
describe('judge against an OpenAI-compatible server', () => {
  const replies: string[] = [];
  let server: FakeOpenAIServer;
  let baseURL = '';
  let requests: FakeOpenAIServer['requests'] = [];

  beforeAll(async () => {
    server = await startFakeOpenAIServer({ modelName: 'judge-model', reply: () => replies.shift() ?? '' });
    baseURL = server.url;
    requests = server.requests;
  });
  afterAll(() => server.close());

  const model = () => new OpenAIChatModel({ baseURL, model: 'judge-model', maxRetries: 0 });

  it('sends the prompt in JSON mode at temperature 0 and scores CORRECT as 1', async () => {
    requests.length = 0;
    replies.push('{"label": "CORRECT"}');
    const verdict = await judge(model(), 'When did she move?', '7 May 2023', 'She moved on May 7th, 2023.');
    expect(verdict).toMatchObject({ label: 'CORRECT', score: 1, model: 'judge-model', raw: '{"label": "CORRECT"}' });
    expect(verdict.promptTokens).toBeGreaterThan(0);
    expect(requests).toHaveLength(1);
    const body = requests[0].body;
    expect(requests[0].path).toMatch(/\/v1\/chat\/completions$/);
    expect(body.temperature).toBe(0);
    expect(body.response_format.type).toMatch(/^json_(schema|object)$/);
    expect(body.messages).toEqual(buildJudgeMessages('When did she move?', '7 May 2023', 'She moved on May 7th, 2023.'));
  });

  it('retries once on an unlabelled reply, summing usage', async () => {
    replies.push('{"label": "WRONG"}');
    const single = await judge(model(), 'q', 'gold', 'generated');
    requests.length = 0;
    replies.push('I cannot decide.', 'Reasoning... {"label": "WRONG"}');
    const verdict = await judge(model(), 'q', 'gold', 'generated');
    expect(verdict).toMatchObject({ label: 'WRONG', score: 0, promptTokens: 2 * single.promptTokens });
    expect(verdict.completionTokens).toBeGreaterThan(single.completionTokens);
    expect(requests).toHaveLength(2);
  });

  it('fails with BAD_OUTPUT when no attempt yields a label', async () => {
    requests.length = 0;
    replies.push('hmm', 'still unsure');
    const err = await judge(model(), 'q', 'gold', 'generated').catch((e) => e);
    expect(err).toBeInstanceOf(LlmError);
    expect(err.code).toBe('BAD_OUTPUT');
    expect(err.message).toContain('still unsure');
    expect(requests).toHaveLength(2);
  });
});
