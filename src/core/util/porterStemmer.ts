// Porter stemmer as NLTK's `PorterStemmer()` computes it in its default NLTK_EXTENSIONS mode, which is
// what the official LoCoMo scorer uses. Works on code points, as Python strings do.

const VOWELS = new Set(['a', 'e', 'i', 'o', 'u']);

/** NLTK_EXTENSIONS: irregular forms looked up before any rule. */
const IRREGULAR: ReadonlyMap<string, string> = new Map([
  ['sky', 'sky'], ['skies', 'sky'],
  ['dying', 'die'], ['lying', 'lie'], ['tying', 'tie'],
  ['news', 'news'],
  ['innings', 'inning'], ['inning', 'inning'],
  ['outings', 'outing'], ['outing', 'outing'],
  ['cannings', 'canning'], ['canning', 'canning'],
  ['howe', 'howe'],
  ['proceed', 'proceed'], ['exceed', 'exceed'], ['succeed', 'succeed'],
]);

type Word = string[];
type Condition = ((stem: Word) => boolean) | null;
/** [suffix, replacement, condition]; suffix `*d` means "ends in a double consonant". */
type Rule = [string, string, Condition];

function isConsonant(word: Word, i: number): boolean {
  if (VOWELS.has(word[i])) return false;
  if (word[i] === 'y') {
    // y after a consonant is a vowel, after a vowel (or at the start) a consonant.
    let negate = false;
    while (i > 0 && word[i] === 'y') {
      negate = !negate;
      i--;
    }
    return !VOWELS.has(word[i]) !== negate;
  }
  return true;
}

function consonantFlags(word: Word): boolean[] {
  const flags: boolean[] = [];
  word.forEach((ch, i) => {
    if (VOWELS.has(ch)) flags.push(false);
    else if (ch === 'y') flags.push(i === 0 ? true : !flags[i - 1]);
    else flags.push(true);
  });
  return flags;
}

/** m in [C](VC)^m[V]: the number of vowel→consonant transitions. */
function measure(stem: Word): number {
  const flags = consonantFlags(stem);
  let m = 0;
  for (let i = 1; i < flags.length; i++) if (!flags[i - 1] && flags[i]) m++;
  return m;
}

const hasPositiveMeasure = (stem: Word): boolean => measure(stem) > 0;

function containsVowel(stem: Word): boolean {
  return consonantFlags(stem).some((c) => !c);
}

function endsDoubleConsonant(word: Word): boolean {
  const n = word.length;
  return n >= 2 && word[n - 1] === word[n - 2] && isConsonant(word, n - 1);
}

/** *o: ends consonant-vowel-consonant, last not w/x/y; NLTK also accepts a two-letter vowel-consonant word. */
function endsCvc(word: Word): boolean {
  const n = word.length;
  return (
    (n >= 3 &&
      isConsonant(word, n - 3) &&
      !isConsonant(word, n - 2) &&
      isConsonant(word, n - 1) &&
      !['w', 'x', 'y'].includes(word[n - 1])) ||
    (n === 2 && !isConsonant(word, 0) && isConsonant(word, 1))
  );
}

function endsWith(word: Word, suffix: string): boolean {
  if (suffix.length > word.length) return false;
  for (let i = 0; i < suffix.length; i++) if (word[word.length - suffix.length + i] !== suffix[i]) return false;
  return true;
}

function withoutSuffix(word: Word, suffix: string): Word {
  return suffix.length === 0 ? word.slice() : word.slice(0, word.length - suffix.length);
}

/** The first rule whose suffix matches decides: applied if its condition holds, else the word stays. */
function applyRuleList(word: Word, rules: Rule[]): Word {
  for (const [suffix, replacement, condition] of rules) {
    if (suffix === '*d' && endsDoubleConsonant(word)) {
      const stem = word.slice(0, -2);
      return condition === null || condition(stem) ? [...stem, ...replacement] : word;
    }
    if (endsWith(word, suffix)) {
      const stem = withoutSuffix(word, suffix);
      return condition === null || condition(stem) ? [...stem, ...replacement] : word;
    }
  }
  return word;
}

function step1a(word: Word): Word {
  if (endsWith(word, 'ies') && word.length === 4) return [...withoutSuffix(word, 'ies'), 'i', 'e'];
  return applyRuleList(word, [
    ['sses', 'ss', null],
    ['ies', 'i', null],
    ['ss', 'ss', null],
    ['s', '', null],
  ]);
}

function step1b(word: Word): Word {
  if (endsWith(word, 'ied')) {
    return word.length === 4 ? [...withoutSuffix(word, 'ied'), 'i', 'e'] : [...withoutSuffix(word, 'ied'), 'i'];
  }
  if (endsWith(word, 'eed')) {
    const stem = withoutSuffix(word, 'eed');
    return measure(stem) > 0 ? [...stem, 'e', 'e'] : word;
  }
  let intermediate: Word | undefined;
  for (const suffix of ['ed', 'ing']) {
    if (endsWith(word, suffix)) {
      const candidate = withoutSuffix(word, suffix);
      if (containsVowel(candidate)) {
        intermediate = candidate;
        break;
      }
    }
  }
  if (!intermediate) return word;
  const last = intermediate[intermediate.length - 1];
  return applyRuleList(intermediate, [
    ['at', 'ate', null],
    ['bl', 'ble', null],
    ['iz', 'ize', null],
    ['*d', last, () => !['l', 's', 'z'].includes(last)],
    ['', 'e', (stem) => measure(stem) === 1 && endsCvc(stem)],
  ]);
}

function step1c(word: Word): Word {
  return applyRuleList(word, [['y', 'i', (stem) => stem.length > 1 && isConsonant(stem, stem.length - 1)]]);
}

function step2(word: Word): Word {
  if (endsWith(word, 'alli') && hasPositiveMeasure(withoutSuffix(word, 'alli'))) {
    return step2([...withoutSuffix(word, 'alli'), 'a', 'l']);
  }
  return applyRuleList(word, [
    ['ational', 'ate', hasPositiveMeasure],
    ['tional', 'tion', hasPositiveMeasure],
    ['enci', 'ence', hasPositiveMeasure],
    ['anci', 'ance', hasPositiveMeasure],
    ['izer', 'ize', hasPositiveMeasure],
    ['bli', 'ble', hasPositiveMeasure],
    ['alli', 'al', hasPositiveMeasure],
    ['entli', 'ent', hasPositiveMeasure],
    ['eli', 'e', hasPositiveMeasure],
    ['ousli', 'ous', hasPositiveMeasure],
    ['ization', 'ize', hasPositiveMeasure],
    ['ation', 'ate', hasPositiveMeasure],
    ['ator', 'ate', hasPositiveMeasure],
    ['alism', 'al', hasPositiveMeasure],
    ['iveness', 'ive', hasPositiveMeasure],
    ['fulness', 'ful', hasPositiveMeasure],
    ['ousness', 'ous', hasPositiveMeasure],
    ['aliti', 'al', hasPositiveMeasure],
    ['iviti', 'ive', hasPositiveMeasure],
    ['biliti', 'ble', hasPositiveMeasure],
    ['fulli', 'ful', hasPositiveMeasure],
    // NLTK measures the word minus 3 letters here ("logi" → "log" keeps the g), not the stem.
    ['logi', 'log', () => hasPositiveMeasure(word.slice(0, -3))],
  ]);
}

function step3(word: Word): Word {
  return applyRuleList(word, [
    ['icate', 'ic', hasPositiveMeasure],
    ['ative', '', hasPositiveMeasure],
    ['alize', 'al', hasPositiveMeasure],
    ['iciti', 'ic', hasPositiveMeasure],
    ['ical', 'ic', hasPositiveMeasure],
    ['ful', '', hasPositiveMeasure],
    ['ness', '', hasPositiveMeasure],
  ]);
}

function step4(word: Word): Word {
  const gt1 = (stem: Word): boolean => measure(stem) > 1;
  return applyRuleList(word, [
    ['al', '', gt1],
    ['ance', '', gt1],
    ['ence', '', gt1],
    ['er', '', gt1],
    ['ic', '', gt1],
    ['able', '', gt1],
    ['ible', '', gt1],
    ['ant', '', gt1],
    ['ement', '', gt1],
    ['ment', '', gt1],
    ['ent', '', gt1],
    ['ion', '', (stem) => measure(stem) > 1 && (stem[stem.length - 1] === 's' || stem[stem.length - 1] === 't')],
    ['ou', '', gt1],
    ['ism', '', gt1],
    ['ate', '', gt1],
    ['iti', '', gt1],
    ['ous', '', gt1],
    ['ive', '', gt1],
    ['ize', '', gt1],
  ]);
}

function step5a(word: Word): Word {
  if (endsWith(word, 'e')) {
    const stem = withoutSuffix(word, 'e');
    const m = measure(stem);
    if (m > 1) return stem;
    if (m === 1 && !endsCvc(stem)) return stem;
  }
  return word;
}

function step5b(word: Word): Word {
  return applyRuleList(word, [['ll', 'l', () => measure(word.slice(0, -1)) > 1]]);
}

/** Stems one word like NLTK's `PorterStemmer().stem(word)` (lower-cases first). */
export function porterStem(word: string): string {
  const lower = word.toLowerCase();
  const irregular = IRREGULAR.get(lower);
  if (irregular !== undefined) return irregular;
  // NLTK checks the length of the word as given, in code points.
  if (Array.from(word).length <= 2) return lower;
  let w: Word = Array.from(lower);
  w = step1a(w);
  w = step1b(w);
  w = step1c(w);
  w = step2(w);
  w = step3(w);
  w = step4(w);
  w = step5a(w);
  w = step5b(w);
  return w.join('');
}
