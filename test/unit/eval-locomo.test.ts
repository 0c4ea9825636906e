import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CATEGORY_NAMES,
  LocomoFormatError,
  findUnresolvedEvidence,
  loadLocomo,
  nonAdversarial,
  normalizeEvidenceIds,
  parseLocomo,
  parseLocomoDate,
  turnText,
} from '../../src/core/eval/locomo';

const repoRoot = path.resolve(__dirname, '../..');
const DEV_SPLIT = path.resolve(repoRoot, '../shared/datasets/locomo/locomo-dev.json');
const MINI = path.resolve(__dirname, '../fixtures/eval/locomo-mini.json');
const hasDev = fs.existsSync(DEV_SPLIT);
if (!hasDev) console.warn(`[eval-locomo] skipping dev-split tests: ${DEV_SPLIT} not found (LoCoMo is not in the repo by licence)`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'locomo-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function writeTmp(name: string, content: string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, content);
  return p;
}

describe('parseLocomoDate', () => {
  it('parses LoCoMo session times into ISO (wall clock as UTC)', () => {
    expect(parseLocomoDate('1:56 pm on 8 May, 2023')).toBe('2023-05-08T13:56:00.000Z');
    expect(parseLocomoDate('12:09 am on 13 September, 2023')).toBe('2023-09-13T00:09:00.000Z');
    expect(parseLocomoDate('12:48 pm on 1 February, 2023')).toBe('2023-02-01T12:48:00.000Z');
    expect(parseLocomoDate('10:31 AM on 13 Oct 2023')).toBe('2023-10-13T10:31:00.000Z');
  });

  it('rejects what is not a date', () => {
    expect(parseLocomoDate('')).toBeUndefined();
    expect(parseLocomoDate('1:56 pm on 31 June, 2023')).toBeUndefined();
    expect(parseLocomoDate('13:56 pm on 8 May, 2023')).toBeUndefined();
    expect(parseLocomoDate('1:56 pm on 8 Mayday, 2023')).toBeUndefined();
  });
});

describe('normalizeEvidenceIds', () => {
  it('repairs the malformed ids found in the public data', () => {
    expect(normalizeEvidenceIds('D8:6; D9:17')).toEqual(['D8:6', 'D9:17']);
    expect(normalizeEvidenceIds('D:11:26')).toEqual(['D11:26']);
    expect(normalizeEvidenceIds('D30:05')).toEqual(['D30:5']);
    expect(normalizeEvidenceIds(' D1:3 ')).toEqual(['D1:3']);
    expect(normalizeEvidenceIds('')).toEqual([]);
    expect(normalizeEvidenceIds('garbage')).toEqual(['garbage']);
  });
});

describe('loadLocomo on a small fixture', () => {
  const [sample] = loadLocomo(MINI);

  it('orders sessions numerically and parses their dates', () => {
    expect(sample.sampleId).toBe('mini-1');
    expect(sample.speakers).toEqual(['Ana', 'Ben']);
    expect(sample.sessions.map((s) => s.index)).toEqual([1, 2, 10]);
    expect(sample.sessions.map((s) => s.isoDate)).toEqual([
      '2024-02-29T09:15:00.000Z',
      '2024-03-01T00:05:00.000Z',
      '2024-04-02T12:30:00.000Z',
    ]);
    expect(sample.sessions[0].dateTime).toBe('9:15 am on 29 February, 2024');
  });

  it('renders shared images as text', () => {
    const [withCaption, withoutCaption] = sample.sessions[1].turns;
    expect(withCaption.imageCaption).toBe('a photo of a lake at sunset');
    expect(turnText(withCaption)).toBe('Ben: Back from the lake! [shares a photo: a photo of a lake at sunset]');
    expect(turnText(withoutCaption)).toBe('Ana: Looks calm. [shares a photo]');
    expect(turnText(sample.sessions[0].turns[0])).toBe('Ana: Hi Ben, I started pottery.');
  });

  it('converts answers to text, normalises evidence and keeps adversarial answers', () => {
    expect(sample.qa.map((q) => q.answer)).toEqual(['pottery', '5', 'a lake; outdoors', '']);
    expect(sample.qa[1].evidence).toEqual(['D1:2']);
    expect(sample.qa[2].evidence).toEqual(['D2:1', 'D2:2']);
    expect(sample.qa[3]).toMatchObject({ category: 5, adversarialAnswer: 'a lake', evidence: ['D1:1', 'D9:9'] });
    expect(sample.qa.filter(nonAdversarial)).toHaveLength(3);
    expect(findUnresolvedEvidence(sample)).toEqual([{ question: 'What did Ana paint?', evidence: 'D9:9' }]);
  });

  it('names the categories as Mem0 and Memory-R1 do', () => {
    expect(CATEGORY_NAMES).toEqual({ 1: 'multi-hop', 2: 'temporal', 3: 'open-domain', 4: 'single-hop', 5: 'adversarial' });
  });
});

describe('loadLocomo errors', () => {
  it('reports a missing file', () => {
    expect(() => loadLocomo(path.join(tmp, 'nope.json'))).toThrow(/LoCoMo file not found: .*nope\.json/);
  });

  it('reports invalid JSON with the path', () => {
    const p = writeTmp('bad.json', '[{"sample_id": ');
    expect(() => loadLocomo(p)).toThrow(LocomoFormatError);
    expect(() => loadLocomo(p)).toThrow(/bad\.json is not valid JSON/);
  });

  it('reports the first wrong field by its JSON path', () => {
    const base = JSON.parse(fs.readFileSync(MINI, 'utf8'));
    const cases: [string, (d: any) => void, RegExp][] = [
      ['category 6', (d) => (d[0].qa[0].category = 6), /\[0\]\.qa\[0\]\.category: expected an integer 1\.\.5, got number 6/],
      ['missing answer', (d) => delete d[0].qa[0].answer, /\[0\]\.qa\[0\]\.answer: expected a string or number/],
      ['turn without dia_id', (d) => delete d[0].conversation.session_1[1].dia_id, /session_1\[1\]\.dia_id: expected a string, got nothing/],
      ['session not a list', (d) => (d[0].conversation.session_2 = 'x'), /conversation\.session_2: expected an array of turns/],
      ['no speakers', (d) => delete d[0].conversation.speaker_b, /conversation\.speaker_b: expected a string/],
      ['evidence not strings', (d) => (d[0].qa[0].evidence = [1]), /qa\[0\]\.evidence: expected an array of strings/],
      ['duplicate id', (d) => d.push(structuredClone(d[0])), /duplicate sample id "mini-1"/],
    ];
    expect(() => parseLocomo({})).toThrow(/expected a JSON array of samples, got an object/);
    for (const [name, mutate, message] of cases) {
      const data = structuredClone(base);
      mutate(data);
      const p = writeTmp(`${name.replace(/\W/g, '_')}.json`, JSON.stringify(data));
      expect(() => loadLocomo(p), name).toThrow(message);
    }
  });
});

describe.skipIf(!hasDev)('loadLocomo on the LoCoMo dev split', () => {
  const samples = hasDev ? loadLocomo(DEV_SPLIT) : [];

  it('has conv-26 (152 scored questions) and conv-30 (81)', () => {
    expect(samples.map((s) => s.sampleId)).toEqual(['conv-26', 'conv-30']);
    expect(samples.map((s) => s.qa.filter(nonAdversarial).length)).toEqual([152, 81]);
    for (const s of samples) {
      for (const q of s.qa) {
        expect(typeof q.answer).toBe('string');
        if (q.category !== 5) expect(q.answer.length).toBeGreaterThan(0);
        else expect(q.adversarialAnswer).toBeDefined();
      }
    }
  });

  it('keeps sessions in order, each with a parsed date, dates never going back', () => {
    for (const s of samples) {
      expect(s.sessions.length).toBeGreaterThan(10);
      expect(s.sessions.map((x) => x.index)).toEqual(s.sessions.map((_, i) => i + 1));
      for (const session of s.sessions) {
        expect(session.isoDate, session.dateTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\.000Z$/);
        expect(session.turns.length).toBeGreaterThan(0);
        for (const t of session.turns) expect(t.diaId.startsWith(`D${session.index}:`)).toBe(true);
      }
      const times = s.sessions.map((x) => Date.parse(x.isoDate!));
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }
    expect(samples[0].sessions[0]).toMatchObject({ dateTime: '1:56 pm on 8 May, 2023', isoDate: '2023-05-08T13:56:00.000Z' });
  });

  it('converts numeric answers and renders every image caption', () => {
    const numeric = samples[0].qa.find((q) => q.question === 'When did Melanie paint a sunrise?');
    expect(numeric?.answer).toBe('2022');
    const imageTurns = samples.flatMap((s) => s.sessions.flatMap((x) => x.turns)).filter((t) => t.imageCaption);
    expect(imageTurns.length).toBeGreaterThan(100);
    for (const t of imageTurns) expect(turnText(t)).toContain(`[shares a photo: ${t.imageCaption}]`);
  });

  it('resolves every evidence id once malformed ones are repaired', () => {
    for (const s of samples) expect(findUnresolvedEvidence(s), s.sampleId).toEqual([]);
    // conv-26 lists "D8:6; D9:17" as one id in the raw data.
    expect(samples[0].qa.some((q) => q.evidence.includes('D8:6') && q.evidence.includes('D9:17'))).toBe(true);
  });
});
