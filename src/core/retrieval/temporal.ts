// Time awareness for lexical retrieval. A memory's eventTime becomes index terms for its day, month and
// year; dates a query names ("on 8 May 2023", "in October 2023", "in June", "in 2022") become the same
// terms, so BM25 matches memories of that time. "When ..." questions also match memories that mention
// a time ("yesterday", "last week", "two years ago"), where such answers usually are.
// Terms start with "@", which the word analyser never produces, so they cannot collide with words.
import { MONTH_NAMES } from '../util/text';

const MONTHS = MONTH_NAMES.map((m) => m.toLowerCase());
const MONTH_RE = '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';

/** The term every memory that mentions a time carries, and every "when" question asks for. */
export const MENTIONS_TIME_TERM = '@time';

const pad = (n: number): string => String(n).padStart(2, '0');
const dayTerm = (y: number, m: number, d: number): string => `@d${y}-${pad(m)}-${pad(d)}`;
const monthTerm = (y: number, m: number): string => `@m${y}-${pad(m)}`;
const monthOfAnyYearTerm = (m: number): string => `@mon${pad(m)}`;
const yearTerm = (y: number): string => `@y${y}`;

function monthIndex(name: string): number {
  const lower = name.toLowerCase();
  return MONTHS.findIndex((m) => m.startsWith(lower.slice(0, 3))) + 1;
}

function validDay(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return d >= 1 && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** Index terms for a memory's eventTime (ISO 8601): its day, month, month of any year and year. Empty when absent or unparsable. */
export function eventTimeTerms(eventTime: string | undefined): string[] {
  const m = eventTime ? /^(\d{4})-(\d{2})-(\d{2})/.exec(eventTime) : null;
  if (!m) return [];
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || !validDay(y, mo, d)) return [];
  return [dayTerm(y, mo, d), monthTerm(y, mo), monthOfAnyYearTerm(mo), yearTerm(y)];
}

/**
 * Terms for the dates a query names, most specific only: "13 October 2023" / "October 13, 2023" /
 * "2023-10-13" → the day; "October 2023" → the month; "in June" → that month of any year; "2022" → the year.
 * A bare "may" counts only after "in"/"during"/"since"/"until"/"of", so the verb does not read as a month.
 */
export function queryTimeTerms(query: string): string[] {
  const terms = new Set<string>();
  let rest = query.toLowerCase();
  const take = (re: RegExp, toTerm: (m: RegExpExecArray) => string | undefined): void => {
    rest = rest.replace(re, (...args: unknown[]) => {
      const groups = args.slice(0, -2) as string[];
      const term = toTerm(groups as unknown as RegExpExecArray);
      if (term) terms.add(term);
      return term ? ' ' : groups[0];
    });
  };
  const day = (y: string, mo: number, d: string): string | undefined =>
    mo && validDay(Number(y), mo, Number(d)) ? dayTerm(Number(y), mo, Number(d)) : undefined;
  take(/\b(\d{4})-(\d{2})-(\d{2})\b/g, (m) => day(m[1], Number(m[2]), m[3]));
  take(new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+(?:of\\s+)?${MONTH_RE}\\.?,?\\s+(\\d{4})\\b`, 'g'), (m) => day(m[3], monthIndex(m[2]), m[1]));
  take(new RegExp(`\\b${MONTH_RE}\\.?\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})\\b`, 'g'), (m) => day(m[3], monthIndex(m[1]), m[2]));
  take(new RegExp(`\\b${MONTH_RE}\\.?,?\\s+(?:of\\s+)?(\\d{4})\\b`, 'g'), (m) => monthTerm(Number(m[2]), monthIndex(m[1])));
  take(/\b((?:19|20)\d{2})\b/g, (m) => yearTerm(Number(m[1])));
  take(new RegExp(`\\b(?:in|during|since|until|of|early|late|mid)\\s+${MONTH_RE}\\b`, 'g'), (m) => monthOfAnyYearTerm(monthIndex(m[1])));
  take(/\b(january|february|march|april|june|july|august|september|october|november|december)\b/g, (m) => monthOfAnyYearTerm(monthIndex(m[1])));
  if (asksWhen(query)) terms.add(MENTIONS_TIME_TERM);
  return [...terms];
}

/** True for questions whose answer is a time: "When ...", "What year/month/date ...", "How long ago ...". */
export function asksWhen(query: string): boolean {
  return /^\s*(?:when\b|(?:in |on |since )?(?:what|which) (?:year|month|date|day|time|week)\b|how long\b)/i.test(query);
}

const TIME_MENTION = new RegExp(
  [
    `\\b${MONTH_RE}\\b(?!\\s+(?:i|we|you|he|she|they|be)\\b)`,
    '\\b(?:19|20)\\d{2}\\b',
    '\\b(?:yesterday|today|tonight|tomorrow|ago|recently|lately|weekend|last (?:night|week|month|year|time)|next (?:week|month|year))\\b',
    '\\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\\b',
    '\\b(?:this|past|few|couple of|coming) (?:days?|weeks?|months?|years?)\\b',
    '\\b(?:since|for) (?:\\w+ )?(?:days?|weeks?|months?|years?)\\b',
  ].join('|'),
  'i',
);

/** Index terms a memory's text earns: the time-mention term when it names a time. */
export function textTimeTerms(text: string): string[] {
  return TIME_MENTION.test(text) ? [MENTIONS_TIME_TERM] : [];
}

/** All time terms a memory is indexed with: those of its eventTime and of the times its text mentions. */
export function memoryTimeTerms(text: string, eventTime: string | undefined): string[] {
  return [...eventTimeTerms(eventTime), ...textTimeTerms(text)];
}
