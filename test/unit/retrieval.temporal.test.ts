import { describe, expect, it } from 'vitest';
import {
  MENTIONS_TIME_TERM,
  asksWhen,
  eventTimeTerms,
  memoryTimeTerms,
  queryTimeTerms,
  textTimeTerms,
} from '../../src/core/retrieval/temporal';
import { Bm25Index } from '../../src/core/retrieval/bm25';

describe('eventTimeTerms', () => {
  it('names the day, month, month of any year and year of an ISO time', () => {
    expect(eventTimeTerms('2023-05-08T13:56:00.000Z')).toEqual(['@d2023-05-08', '@m2023-05', '@mon05', '@y2023']);
    expect(eventTimeTerms('2022-12-31')).toEqual(['@d2022-12-31', '@m2022-12', '@mon12', '@y2022']);
  });

  it('gives nothing for a missing or impossible date', () => {
    expect(eventTimeTerms(undefined)).toEqual([]);
    expect(eventTimeTerms('')).toEqual([]);
    expect(eventTimeTerms('yesterday')).toEqual([]);
    expect(eventTimeTerms('2023-02-30T00:00:00Z')).toEqual([]);
    expect(eventTimeTerms('2023-13-01')).toEqual([]);
  });
});

describe('queryTimeTerms', () => {
  it('reads full dates in the usual spellings as the day', () => {
    expect(queryTimeTerms('What did she show on October 13, 2023?')).toEqual(['@d2023-10-13']);
    expect(queryTimeTerms('What did Gina find on 1 February, 2023?')).toEqual(['@d2023-02-01']);
    expect(queryTimeTerms('What happened on the 3rd of March 2024?')).toEqual(['@d2024-03-03']);
    expect(queryTimeTerms('Anything logged on 2024-01-15?')).toEqual(['@d2024-01-15']);
    expect(queryTimeTerms('What happened on Sept 9, 2023?')).toEqual(['@d2023-09-09']);
  });

  it('reads a month with a year, a month alone and a year alone', () => {
    expect(queryTimeTerms('What did they paint in July 2023?')).toEqual(['@m2023-07']);
    expect(queryTimeTerms('What did she fix in June?')).toEqual(['@mon06']);
    expect(queryTimeTerms('How many trips in 2022?')).toEqual(['@y2022']);
    expect(queryTimeTerms('What broke in May?')).toEqual(['@mon05']);
  });

  it('does not read the verb "may" or an impossible date as a time', () => {
    expect(queryTimeTerms('What may the build need?')).toEqual([]);
    expect(queryTimeTerms('What changed on February 30, 2023?')).not.toContain('@d2023-02-30');
  });

  it('asks for time mentions in "when" questions', () => {
    expect(queryTimeTerms('When did Melanie go camping in June?')).toEqual(['@mon06', MENTIONS_TIME_TERM]);
    expect(asksWhen('When did the deploy fail?')).toBe(true);
    expect(asksWhen('What year did she move?')).toBe(true);
    expect(asksWhen('How long ago was the migration?')).toBe(true);
    expect(asksWhen('In which month did we switch to pnpm?')).toBe(true);
    expect(asksWhen('What database do we use?')).toBe(false);
    expect(asksWhen('Whence came the bug?')).toBe(false);
  });
});

describe('textTimeTerms', () => {
  it('marks texts that mention a time', () => {
    for (const t of ['I went there yesterday', 'We moved in 2019', 'Two weekends ago we camped', 'Last Friday I gave a talk', 'The release is in March']) {
      expect(textTimeTerms(t), t).toEqual([MENTIONS_TIME_TERM]);
    }
    for (const t of ['The database is PostgreSQL', 'I love painting sunsets']) expect(textTimeTerms(t), t).toEqual([]);
  });

  it('memoryTimeTerms joins the event time and the text mentions', () => {
    expect(memoryTimeTerms('We shipped it yesterday', '2023-05-08T10:00:00Z')).toEqual(['@d2023-05-08', '@m2023-05', '@mon05', '@y2023', MENTIONS_TIME_TERM]);
  });
});

describe('time terms in BM25', () => {
  it('let a dated question find the memory of that day among same-topic memories', () => {
    const idx = new Bm25Index();
    const days = ['2023-10-06', '2023-10-13', '2023-10-20', '2023-11-13'];
    days.forEach((d, i) => idx.set(`m${i}`, 'Melanie showed a painting of a sunset', eventTimeTerms(`${d}T10:00:00Z`)));
    const hits = idx.search('What painting did Melanie show on October 13, 2023?', 4, undefined, queryTimeTerms('What painting did Melanie show on October 13, 2023?'));
    expect(hits[0].id).toBe('m1');
    expect(hits.length).toBe(4);
    // Without the time terms all four tie.
    const plain = idx.search('What painting did Melanie show on October 13, 2023?', 4);
    expect(new Set(plain.map((h) => h.score)).size).toBe(1);
  });
});
