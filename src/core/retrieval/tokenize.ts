import { porterStem } from '../util/porterStemmer';

const STOPWORDS = new Set(
  (
    'a an and are as at be but by for from has have he her his i if in into is it its me my of on or our she so ' +
    'that the their them then there these they this to was we were what when where which who whom why will with ' +
    'you your do does did not no yes can could would should been being am than too very just also about'
  ).split(' '),
);

/** Lower-cased word tokens without stopwords, with a light suffix strip so "runs"/"running" meet. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.toLowerCase().split(/[^\p{L}\p{N}_]+/u)) {
    if (!raw || STOPWORDS.has(raw)) continue;
    out.push(stem(raw));
  }
  return out;
}

function stem(w: string): string {
  if (w.length <= 4 || /\d/.test(w)) return w;
  for (const suf of ['ing', 'ed', 'es', 's']) {
    if (w.endsWith(suf) && w.length - suf.length >= 3) return w.slice(0, -suf.length);
  }
  return w;
}

/**
 * Words that carry no topic in memories or questions: function words plus the wh-/auxiliary words
 * questions are made of ("how many", "what kind of", "did ... ever"). Used by the BM25 analyser only.
 */
const INDEX_STOPWORDS = new Set(
  (
    'a about above after again against all also am an and any are as at be because been before being below ' +
    'between both but by can could did do does doing done down during each either else ever few for from ' +
    'further get gets got had has have having he her here hers herself him himself his how i if in into is it ' +
    "its itself just kind kinds let like likely many may me might more most much must my myself no nor not now of " +
    'off on once one only or other our ours ourselves out over own per please quite rather really same shall she ' +
    'should so some such than that the their theirs them themselves then there these they this those through ' +
    'thus to too type types under until up upon us very was way we were what whatever when where whether which ' +
    'while who whom whose why will with would yes yet you your yours yourself yourselves ' +
    'll re ve'
  ).split(' '),
);

const stemCache = new Map<string, string>();
const STEM_CACHE_LIMIT = 200_000;

function cachedStem(word: string): string {
  let s = stemCache.get(word);
  if (s === undefined) {
    s = porterStem(word);
    if (stemCache.size >= STEM_CACHE_LIMIT) stemCache.clear();
    stemCache.set(word, s);
  }
  return s;
}

/**
 * Terms for the BM25 index and its queries: lower-cased words without stopwords or stray single
 * letters (the "s" of "Caroline's"), Porter-stemmed so "pets"/"pet" and "married"/"marry" meet.
 */
export function indexTerms(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if (!raw || INDEX_STOPWORDS.has(raw)) continue;
    if (raw.length === 1 && !/\d/.test(raw)) continue;
    out.push(/\d/.test(raw) ? raw : cachedStem(raw));
  }
  return out;
}
