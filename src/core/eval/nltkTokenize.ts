// `nltk.word_tokenize` as Mem0's BLEU computation calls it on lower-cased text: a Punkt-style
// sentence split followed by NLTK's improved Treebank word tokenizer (NLTKWordTokenizer, nltk 3.9+).
//
// The Treebank part is a rule-for-rule port. Punkt's English model is trained data that cannot ship here,
// so the sentence split is approximated with its decision rules: a non-final `.` ends a sentence unless
// the word is a known abbreviation, an ellipsis, or an initial/number followed by a lower-case word.
// Only `.` is affected: Treebank splits off a sentence-final period but keeps a mid-sentence one attached.

/** Python's Unicode `\w`. */
const W = String.raw`[\p{L}\p{N}_]`;
/** Python's `$` without MULTILINE: end of string or before a final newline. */
const END = String.raw`(?=\n?$)`;

type Sub = [RegExp, string];

const STARTING_QUOTES: Sub[] = [
  [/([«“‘„]|[`]+)/gu, ' $1 '],
  [/^"/u, '``'],
  [/(``)/gu, ' $1 '],
  [/([ ([{<])("|'{2})/gu, '$1 `` '],
  [new RegExp(String.raw`(?<!${W})(')(?!(?:re|ve|ll|m|t|s|d|n)(?!${W}))(?=${W})`, 'giu'), '$1 '],
];

const PUNCTUATION: Sub[] = [
  // Possessive `[...]*+` in nltk; emulated with an atomic lookahead group (same spans, no backtracking).
  [new RegExp(String.raw`([^.])(\.)(?=([\])}>"'»”’ ]*))\3\s*$`, 'u'), '$1 $2 $3 '],
  [/([:,])([^\p{Nd}])/gu, ' $1 $2'],
  [new RegExp(String.raw`([:,])${END}`, 'u'), ' $1 '],
  [/\.{2,}/gu, ' $& '],
  [/[;@#$%&]/gu, ' $& '],
  [/[\u2012-\u2015]/gu, ' $& '],
  [new RegExp(String.raw`([^.])(\.)([\])}>"']*)\s*$`, 'u'), '$1 $2$3 '],
  [/[?!]/gu, ' $& '],
  [/([^'])' /gu, "$1 ' "],
  [/[*]/gu, ' $& '],
];

const PARENS_BRACKETS: Sub = [/[\][(){}<>]/gu, ' $& '];
const DOUBLE_DASHES: Sub = [/--/gu, ' -- '];

const ENDING_QUOTES: Sub[] = [
  [/([»”’])/gu, ' $1 '],
  [/''/gu, " '' "],
  [/"/gu, " '' "],
  [/\s+/gu, ' '],
  [/([^' ])('[sS]|'[mM]|'[dD]|') /gu, '$1 $2 '],
  [/([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) /gu, '$1 $2 '],
];

const CONTRACTIONS: Sub[] = [
  ...[
    ['can', 'not'],
    ['d', "'ye"],
    ['gim', 'me'],
    ['gon', 'na'],
    ['got', 'ta'],
    ['lem', 'me'],
    ['more', "'n"],
  ].map(([a, b]): Sub => [new RegExp(String.raw`(?<!${W})(${a})(${b})(?!${W})`, 'giu'), ' $1 $2 ']),
  [new RegExp(String.raw`(?<!${W})(wan)(na)(?=\s)`, 'giu'), ' $1 $2 '],
  [new RegExp(String.raw` ('t)(is)(?!${W})`, 'giu'), ' $1 $2 '],
  [new RegExp(String.raw` ('t)(was)(?!${W})`, 'giu'), ' $1 $2 '],
];

/** NLTK's `NLTKWordTokenizer().tokenize(sentence)`. */
export function treebankTokenize(sentence: string): string[] {
  let text = sentence;
  for (const [re, sub] of STARTING_QUOTES) text = text.replace(re, sub);
  for (const [re, sub] of PUNCTUATION) text = text.replace(re, sub);
  text = text.replace(PARENS_BRACKETS[0], PARENS_BRACKETS[1]);
  text = text.replace(DOUBLE_DASHES[0], DOUBLE_DASHES[1]);
  text = ` ${text} `;
  for (const [re, sub] of ENDING_QUOTES) text = text.replace(re, sub);
  for (const [re, sub] of CONTRACTIONS) text = text.replace(re, sub);
  return text.split(/\s+/u).filter((t) => t.length > 0);
}

/**
 * Words Punkt's English model treats as abbreviations (the period stays on the word mid-sentence).
 * A hand-picked list of common ones, each checked against nltk's behaviour; the model knows more.
 */
const ABBREVIATIONS = new Set(
  (
    'mr mrs ms dr prof sr jr st vs a.m p.m u.s u.k u.n inc co corp ltd jan feb aug sep sept oct nov dec wed fri ' +
    'ok tues ft ave gen sen rep col lt yr calif fla n.y d.c l.a ph.d messrs conn ariz colo ill kan ky mich minn nev okla ' +
    'ore pa tenn va wash wis bros cie'
  ).split(' '),
);

/** Punkt's "cannot start a word token" and "never inside a word" characters: the word before a period starts after them. */
const PUNKT_WORD_BREAK = /[("`{[:;&#*@)}\]\-,"';‘’“”«»?!]/u;
const NUMERIC = /^-?[.,]?\p{Nd}[\p{Nd},.-]*\.?$/u;
const INITIAL = /^\p{L}\.$/u;
const ELLIPSIS = /\.\.+$/u;

/** Whether Punkt would end a sentence at the period that ends `word`, given the next token. */
function periodEndsSentence(word: string, next: string | undefined): boolean {
  let start = 0;
  for (let i = word.length - 2; i >= 0; i--) {
    if (PUNKT_WORD_BREAK.test(word[i])) {
      start = i + 1;
      break;
    }
  }
  const tok = word.slice(start).toLowerCase();
  if (tok === '.' || ELLIPSIS.test(tok)) return false;
  const type = tok.slice(0, -1);
  if (ABBREVIATIONS.has(type) || ABBREVIATIONS.has(type.split('-').pop() ?? '')) return false;
  if (next !== undefined && (INITIAL.test(tok) || NUMERIC.test(tok))) {
    const first = next[0];
    // Orthographic heuristic: a lower-case next word does not start a sentence.
    if (first !== first.toUpperCase()) return false;
    if (INITIAL.test(tok) && first !== first.toLowerCase()) return false;
  }
  return true;
}

/** Approximates `nltk.sent_tokenize` (Punkt, English) for the purpose of word tokenisation. */
export function punktSentences(text: string): string[] {
  const sentences: string[] = [];
  const candidate = /[.?!](?=([)";}\]*:@'({[‘’“”«»?!])|\s+(\S+))/gu;
  let start = 0;
  for (let m = candidate.exec(text); m; m = candidate.exec(text)) {
    const at = m.index;
    if (at < start) continue;
    const [, punct, next] = m;
    let breaks: boolean;
    if (m[0] !== '.') breaks = true;
    else {
      const before = text.slice(start, at + 1);
      const word = before.slice(before.search(/\S+$/u));
      breaks = periodEndsSentence(word, next);
    }
    if (!breaks) continue;
    let end = at + 1;
    if (punct !== undefined) {
      // Closing quotes/brackets right after the period belong to the sentence that ends.
      const closing = /^["')\]}]+(?=\s|$)/u.exec(text.slice(end));
      if (closing) end += closing[0].length;
    }
    const sentence = text.slice(start, end).trim();
    if (sentence) sentences.push(sentence);
    start = end;
  }
  const rest = text.slice(start).trim();
  if (rest) sentences.push(rest);
  return sentences;
}

/** `nltk.word_tokenize(text)`: Punkt sentences, each through the Treebank tokenizer. */
export function nltkWordTokenize(text: string): string[] {
  return punktSentences(text).flatMap(treebankTokenize);
}
