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
