import { describe, expect, it } from 'vitest';
import type { LocomoCategory } from '../../src/core/eval/locomo';
import {
  aggregate,
  exactMatch,
  extractAnswer,
  locomoF1,
  locomoMultiAnswerF1,
  locomoNormalize,
  locomoTokenF1,
  mem0Bleu1,
  mem0F1,
  normalizeForExactMatch,
  percentile,
  sentenceBleu,
  simpleTokenize,
} from '../../src/core/eval/scoring';
import { porterStem } from '../../src/core/util/porterStemmer';
import { nltkWordTokenize, punktSentences, treebankTokenize } from '../../src/core/eval/nltkTokenize';

// Reference values below were computed with Python 3.11 + nltk 3.10.4 (PorterStemmer(), word_tokenize with the
// English punkt_tab model, sentence_bleu(weights=(1,0,0,0), SmoothingFunction().method1)), running Mem0's
// evaluation/metrics/utils.py F1/BLEU-1 code and LoCoMo's task_eval/evaluation.py scorer verbatim on these inputs.
// A wider cross-check (2,419 words, 588 texts, 140 prediction/gold pairs) matched exactly as well.

const PORTER_REFERENCE: Record<string, string> = {
  running: "run", runs: "run", ran: "ran", caresses: "caress", ponies: "poni", ties: "tie", cats: "cat",
  feed: "feed", agreed: "agre", plastered: "plaster", motoring: "motor", conflated: "conflat", hopping: "hop",
  falling: "fall", hissing: "hiss", fizzed: "fizz", happy: "happi", skies: "sky", dying: "die", lying: "lie",
  generously: "gener", analogies: "analog", archaeology: "archaeolog", cried: "cri", relational: "relat",
  conditional: "condit", hopeful: "hope", goodness: "good", adjustment: "adjust", adoption: "adopt",
  effective: "effect", controll: "control", roll: "roll", eyes: "eye", playing: "play", painting: "paint",
  paintings: "paint", pottery: "potteri", camping: "camp", hiking: "hike", counseling: "counsel",
  researching: "research", agencies: "agenc",
};

const TOKENIZE_REFERENCE: [string, string[]][] = [
  ["i went home. then i slept at 3 p.m. on mon. in 2023. it was fine... ok. dr. smith said so!", ["i", "went", "home", ".", "then", "i", "slept", "at", "3", "p.m.", "on", "mon", ".", "in", "2023.", "it", "was", "fine", "...", "ok.", "dr.", "smith", "said", "so", "!"]],
  ["she said \"hello.\" then left.", ["she", "said", "``", "hello", ".", "''", "then", "left", "."]],
  ["(it was great.) we agreed.", ["(", "it", "was", "great", ".", ")", "we", "agreed", "."]],
  ["they're gonna buy 3,000 apples, i can't wait!", ["they", "'re", "gon", "na", "buy", "3,000", "apples", ",", "i", "ca", "n't", "wait", "!"]],
  ["we met on 7 may 2023. it rained.", ["we", "met", "on", "7", "may", "2023.", "it", "rained", "."]],
  ["caroline's “pride” parade — in june.", ["caroline", "'s", "“", "pride", "”", "parade", "—", "in", "june", "."]],
  ["what?! no way... really?", ["what", "?", "!", "no", "way", "...", "really", "?"]],
  ["cost: $3.88 (roughly)", ["cost", ":", "$", "3.88", "(", "roughly", ")"]],
  ["'tis the season, 'twas fun", ["'", "tis", "the", "season", ",", "'", "twas", "fun"]],
  ["the u.s. team won. j. k. rowling wrote it.", ["the", "u.s.", "team", "won", ".", "j.", "k.", "rowling", "wrote", "it", "."]],
];

// [prediction, gold, category, mem0F1, mem0Bleu1, locomoF1]
const METRIC_REFERENCE: [string, string, LocomoCategory, number, number, number][] = [
  ["running every day", "She runs every day", 4, 0.5714285714285715, 0.47768754038252614, 0.8571428571428571],
  ["Paris, London", "London", 1, 0.6666666666666666, 0.3333333333333333, 1.0],
  ["in June 2023", "June, 2023", 2, 0.8, 0.6666666666666666, 0.8],
  ["pottery and painting", "painting, pottery, camping", 1, 0.6666666666666666, 0.3422780793550613, 0.4444444444444444],
  ["a cat", "the cat", 4, 0.5, 0.5, 1.0],
  ["Adoption agencies", "adoption agency; she is researching", 3, 0.28571428571428575, 0.06766764161830635, 1.0],
  ["Not mentioned in the conversation", "Anything", 5, 0.0, 0.0, 1.0],
  ["There is no information available", "x", 5, 0.0, 0.0, 1.0],
  ["yes", "no", 4, 0.0, 0.0, 0.0],
  ["The week before 9 June 2023", "The week before 9 June 2023", 2, 1.0, 1.0, 1.0],
  ["", "something", 4, 0.0, 0.0, 0.0],
  ["something", "", 4, 0.0, 0.0, 0.0],
  ["...", "?", 4, 0.0, 0.0, 0.0],
  ["Melanie went camping, and also hiking.", "camping, hiking", 1, 0.5, 0.375, 0.5833333333333333],
  ["2022", "2022", 2, 1.0, 1.0, 1.0],
  ["It happened in 2022.", "2022", 2, 0.4, 0.2, 0.4],
  ["the the the", "the", 4, 1.0, 0.3333333333333333, 0.0],
  ["He said: \"go!\"", "go", 4, 0.0, 0.14285714285714285, 0.5],
  ["I don't know", "I do not know", 4, 0.5714285714285715, 0.75, 0.5714285714285715],
  ["Sweden", "Sweden, home country", 1, 0.5, 0.049787068367863944, 0.5],
  ["She ran a charity race for mental health.", "A charity race for mental health", 4, 0.8571428571428571, 0.6666666666666666, 0.8333333333333333],
  ["They went to the beach twice in 2023", "2", 1, 0.0, 0.0, 0.0],
  ["Last Saturday, 20 May 2023", "The Saturday before 25 May 2023", 2, 0.5454545454545454, 0.5, 0.6],
  ["He is a painter. He loves painting landscapes.", "painting", 4, 0.25, 0.10000000000000002, 0.25],
  ["sunsets and horses", "Horses, sunsets, lakes", 1, 0.6666666666666666, 0.3422780793550613, 0.4444444444444444],
  ["Counseling, mental health work", "counseling or mental health", 3, 0.75, 0.6, 0.75],
  ["Likely yes; she values family", "Likely yes; since she wants a family", 3, 0.6666666666666666, 0.5971094254781577, 0.5714285714285715],
  ["Dr. Smith said so. Then we left.", "Dr. Smith", 4, 0.4444444444444445, 0.2222222222222222, 0.4444444444444445],
  ["cats cats dogs", "cats dogs dogs", 4, 1.0, 0.6666666666666666, 0.6666666666666666],
  ["Nothing is Impossible by author", "\"Nothing is Impossible\"", 4, 0.25, 0.6, 0.7499999999999999],
  ["The 7th of May", "7 May 2023", 2, 0.28571428571428575, 0.25, 0.3333333333333333],
  ["playing violin and clarinet", "Clarinet and violin", 4, 0.8571428571428571, 0.75, 0.8],
];

describe('Porter stemmer (nltk PorterStemmer, NLTK_EXTENSIONS mode)', () => {
  it('matches nltk on reference words', () => {
    for (const [word, stem] of Object.entries(PORTER_REFERENCE)) expect(porterStem(word), word).toBe(stem);
  });

  it('lower-cases and leaves words of one or two letters alone', () => {
    expect(porterStem('Running')).toBe('run');
    expect(porterStem('is')).toBe('is');
    expect(porterStem('As')).toBe('as');
  });

  it('makes "running" and "runs" the same token', () => {
    expect(porterStem('running')).toBe(porterStem('runs'));
  });
});

describe('nltk word_tokenize port', () => {
  it('matches nltk on reference texts', () => {
    for (const [text, tokens] of TOKENIZE_REFERENCE) expect(nltkWordTokenize(text), text).toEqual(tokens);
  });

  it('splits only the sentence-final period in Treebank', () => {
    expect(treebankTokenize('i went home. then slept.')).toEqual(['i', 'went', 'home.', 'then', 'slept', '.']);
  });

  it('ends sentences at periods except after abbreviations and before lower-case words after numbers', () => {
    expect(punktSentences('i went home. then slept.')).toEqual(['i went home.', 'then slept.']);
    expect(punktSentences('ask dr. smith. ok?')).toEqual(['ask dr. smith.', 'ok?']);
    expect(punktSentences('in 2023. it rained')).toEqual(['in 2023. it rained']);
  });
});

describe('Mem0 metrics', () => {
  it('simple_tokenize lower-cases and treats . , ! ? as spaces', () => {
    expect(simpleTokenize('Hi, Mel! How are you?Fine.')).toEqual(['hi', 'mel', 'how', 'are', 'you', 'fine']);
  });

  it('hand-checked F1 and BLEU-1', () => {
    // pred {running, every, day}, gold {she, runs, every, day}: 2 shared → P 2/3, R 1/2 → F1 4/7.
    expect(mem0F1('running every day', 'She runs every day')).toBeCloseTo(4 / 7, 12);
    // BLEU-1: 2 of 3 hypothesis unigrams clip to the reference; hyp 3 < ref 4 → BP exp(1 − 4/3).
    expect(mem0Bleu1('running every day', 'She runs every day')).toBeCloseTo((2 / 3) * Math.exp(1 - 4 / 3), 12);
    // Sets, not multisets: {cats, dogs} both sides → F1 1; BLEU clips "cats" to 1 → 2/3, equal lengths → BP 1.
    expect(mem0F1('cats cats dogs', 'cats dogs dogs')).toBe(1);
    expect(mem0Bleu1('cats cats dogs', 'cats dogs dogs')).toBeCloseTo(2 / 3, 12);
    // No shared unigram → 0 (smoothing only touches the zero-weight higher orders).
    expect(mem0Bleu1('yes', 'no')).toBe(0);
    expect(mem0F1('', 'x')).toBe(0);
  });

  it('sentence_bleu with all four orders uses epsilon 0.1 for missing n-grams', () => {
    // hyp = ref = [a, b]: p1 = p2 = 1; p3, p4 have no n-grams → (0 + 0.1)/1 each; BP 1.
    const expected = Math.exp(0.25 * Math.log(0.1) * 2);
    expect(sentenceBleu([['a', 'b']], ['a', 'b'])).toBeCloseTo(expected, 12);
    expect(() => sentenceBleu([], ['a'])).toThrow(RangeError);
  });
});

describe('official LoCoMo scorer', () => {
  it('normalize_answer drops commas, punctuation and a/an/the/and', () => {
    expect(locomoNormalize('The cat, a dog and AN owl!')).toBe('cat dog owl');
    expect(locomoNormalize('Band-aid; theme')).toBe('bandaid theme');
  });

  it('hand-checked special cases', () => {
    // Stemming: run/everi/day vs she/run/everi/day → 3 shared, P 1, R 3/4 → 6/7.
    expect(locomoTokenF1('running every day', 'She runs every day')).toBeCloseTo(6 / 7, 12);
    // Articles removed: "cat" vs "cat".
    expect(locomoF1('a cat', 'the cat', 4)).toBe(1);
    // Multi-hop: gold parts painting/pottery/camping vs the single predicted part "pottery painting":
    // 2/3, 2/3, 0 → mean 4/9.
    expect(locomoF1('pottery and painting', 'painting, pottery, camping', 1)).toBeCloseTo(4 / 9, 12);
    // Multi-hop with comma-separated predictions: each gold part finds its exact match.
    expect(locomoMultiAnswerF1('hiking, camping', 'camping, hiking')).toBe(1);
    // Open-domain: only the gold text before ';' counts ("adoption agency").
    expect(locomoF1('Adoption agencies', 'adoption agency; she is researching', 3)).toBe(1);
    // As single-hop the whole gold counts: adopt/agenc of adopt/agenc/she/is/research → P 1, R 2/5 → 4/7.
    expect(locomoF1('Adoption agencies', 'adoption agency; she is researching', 4)).toBeCloseTo(4 / 7, 12);
    // Counter overlap: cat,cat,dog vs cat,dog,dog → 2 shared of 3 → 2/3.
    expect(locomoTokenF1('cats cats dogs', 'cats dogs dogs')).toBeCloseTo(2 / 3, 12);
    // Adversarial: an abstention phrase scores 1 whatever the gold says.
    expect(locomoF1('Not mentioned in the conversation', 'anything', 5)).toBe(1);
    expect(locomoF1('She went to Paris', 'anything', 5)).toBe(0);
  });
});

describe('all three metrics against the Python reference', () => {
  it.each(METRIC_REFERENCE)('%j vs %j (category %i)', (pred, gold, category, f1, bleu1, locomo) => {
    expect(mem0F1(pred, gold)).toBeCloseTo(f1, 12);
    expect(mem0Bleu1(pred, gold)).toBeCloseTo(bleu1, 12);
    expect(locomoF1(pred, gold, category)).toBeCloseTo(locomo, 12);
  });
});

describe('exact match and answer extraction (RL reward)', () => {
  it('normalises case, punctuation, articles and whitespace', () => {
    expect(normalizeForExactMatch('  The  Shell-Necklace!  ')).toBe('shell necklace');
    expect(exactMatch('A shell necklace.', 'shell necklace')).toBe(1);
    expect(exactMatch('“Sweden”', 'sweden')).toBe(1);
    expect(exactMatch('shell necklaces', 'shell necklace')).toBe(0);
    expect(exactMatch('and', 'and')).toBe(1);
  });

  it('takes the text after the last **Answer:** marker', () => {
    const out = '**Selected memories:** 3, 7\n**Answer:** 7 May 2023  \n';
    expect(extractAnswer(out)).toBe('7 May 2023');
    expect(extractAnswer('**Answer:** draft\n**Answer:** final')).toBe('final');
    expect(extractAnswer('**Answer**: Paris')).toBe('Paris');
  });

  it('tolerates a plain Answer:, think blocks and missing markers', () => {
    expect(extractAnswer('Reasoning first.\nAnswer: Paris')).toBe('Paris');
    expect(extractAnswer('<think>Answer: wrong</think>**Answer:** right')).toBe('right');
    expect(extractAnswer('  just the answer ')).toBe('just the answer');
    expect(extractAnswer('**Answer:** **Paris**')).toBe('Paris');
    expect(exactMatch(extractAnswer('**Answer:** The Louvre.'), 'Louvre')).toBe(1);
  });
});

describe('aggregate and percentile', () => {
  it('gives per-category and overall means over the questions that have each score', () => {
    const agg = aggregate([
      { category: 1, scores: { f1: 1, judge: 1 } },
      { category: 1, scores: { f1: 0.5, judge: 0 } },
      { category: 4, scores: { f1: 0, judge: 1 } },
      { category: 4, scores: { f1: Number.NaN } },
    ]);
    expect(agg.overall.count).toBe(4);
    expect(agg.overall.mean.f1).toBeCloseTo(0.5, 12); // (1 + 0.5 + 0) / 3, NaN skipped
    expect(agg.overall.mean.judge).toBeCloseTo(2 / 3, 12);
    expect(agg.byCategory[1]).toEqual({ count: 2, mean: { f1: 0.75, judge: 0.5 } });
    expect(agg.byCategory[4]).toEqual({ count: 2, mean: { f1: 0, judge: 1 } });
    expect(agg.byCategory[2]).toBeUndefined();
    expect(aggregate([])).toEqual({ overall: { count: 0, mean: {} }, byCategory: {} });
  });

  it('interpolates linearly like numpy.percentile', () => {
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5], 95)).toBeCloseTo(4.8, 12);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 10], 0)).toBe(1);
    expect(percentile([1, 10], 100)).toBe(10);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});
