// Relative time words in a fact ("yesterday", "last year", "last Friday", "two weeks ago") become dates,
// counted from the event's own time. A fact is read long after its event: "yesterday" in a memory means
// nothing a month later, and the Answer Agent of a small model rarely does this arithmetic itself. The
// extraction prompt asks the model to do it; this catches what the model left relative.
import { MONTH_NAMES, readableDate } from './text';

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const NUMBER_WORDS: Record<string, number> = { a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, couple: 2, few: 3 };
/** After these a bare date reads right ("since 19 January 2023"); elsewhere it takes "on"/"in". */
const PREPOSITION = /\b(on|in|since|until|till|from|by|before|after|during|of|around)\s+$/i;

const day = (d: Date): string => readableDate(d.toISOString());
const month = (d: Date): string => `${MONTH_NAMES[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
const addDays = (d: Date, n: number): Date => new Date(d.getTime() + n * 86_400_000);
const addMonths = (d: Date, n: number): Date => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1));

/**
 * The fact with its relative time words replaced by dates counted from `eventTime` (an ISO time). Unchanged
 * when there is no event time or nothing relative in it.
 */
export function resolveRelativeDates(fact: string, eventTime: string | undefined): string {
  const m = eventTime && /^(\d{4})-(\d{2})-(\d{2})/.exec(eventTime);
  if (!m) return fact;
  const base = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (Number.isNaN(base.getTime())) return fact;
  const rules: [RegExp, (match: RegExpExecArray) => { on: string; bare: string } | undefined][] = [
    [/\b(?:the day before yesterday)\b/gi, () => at(day(addDays(base, -2)))],
    [/\byesterday\b/gi, () => at(day(addDays(base, -1)))],
    [/\btomorrow\b/gi, () => at(day(addDays(base, 1)))],
    [/\b(?:today|tonight|this morning|this afternoon|this evening)\b/gi, () => at(day(base))],
    [/\blast weekend\b/gi, () => ({ on: `on the weekend before ${day(base)}`, bare: `the weekend before ${day(base)}` })],
    [/\bthis weekend\b/gi, () => ({ on: `on the weekend of ${day(base)}`, bare: `the weekend of ${day(base)}` })],
    [/\blast week\b/gi, () => ({ on: `in the week before ${day(base)}`, bare: `the week before ${day(base)}` })],
    [/\bnext week\b/gi, () => ({ on: `in the week after ${day(base)}`, bare: `the week after ${day(base)}` })],
    [/\blast month\b/gi, () => within(month(addMonths(base, -1)))],
    [/\bthis month\b/gi, () => within(month(base))],
    [/\bnext month\b/gi, () => within(month(addMonths(base, 1)))],
    [/\blast year\b/gi, () => within(String(base.getUTCFullYear() - 1))],
    [/\bthis year\b/gi, () => within(String(base.getUTCFullYear()))],
    [/\bnext year\b/gi, () => within(String(base.getUTCFullYear() + 1))],
    [
      /\b(last|this past|next) (sunday|monday|tuesday|wednesday|thursday|friday|saturday)\b/gi,
      (x) => {
        const target = WEEKDAYS.indexOf(x[2]!.toLowerCase());
        const now = base.getUTCDay();
        const back = (now - target + 7) % 7 || 7;
        const forward = (target - now + 7) % 7 || 7;
        return at(day(addDays(base, /^next$/i.test(x[1]!) ? forward : -back)));
      },
    ],
    [
      /\b(\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|a couple of|a few) (day|week|month|year)s? ago\b/gi,
      (x) => {
        const n = /^\d+$/.test(x[1]!) ? Number(x[1]) : NUMBER_WORDS[x[1]!.toLowerCase().replace(/^a (couple|few) of$/, '$1')];
        if (!n) return undefined;
        const unit = x[2]!.toLowerCase();
        if (unit === 'day') return at(day(addDays(base, -n)));
        if (unit === 'week') return { on: `around ${day(addDays(base, -7 * n))}`, bare: `around ${day(addDays(base, -7 * n))}` };
        if (unit === 'month') return within(month(addMonths(base, -n)));
        return within(String(base.getUTCFullYear() - n));
      },
    ],
  ];
  let out = fact;
  for (const [re, to] of rules) {
    out = out.replace(re, (...args) => {
      const match = args.slice(0, -2) as unknown as RegExpExecArray;
      const offset = args.at(-2) as number;
      const whole = args.at(-1) as string;
      const r = to(match);
      if (!r) return match[0];
      return PREPOSITION.test(whole.slice(0, offset)) ? r.bare : r.on;
    });
  }
  return out;
}

const at = (d: string) => ({ on: `on ${d}`, bare: d });
const within = (period: string) => ({ on: `in ${period}`, bare: period });
