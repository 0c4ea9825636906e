// The page's strings. The host reads the translated bundle VS Code loaded for the display language
// (l10n/bundle.l10n.<locale>.json, keyed by the English text) and hands it to the page in the HTML;
// every user-visible string of the page goes through t(). Keys must be string literals: the
// English bundle is checked against them (scripts/l10n-export.mjs, test/unit/l10n.bundle.test.ts).

export type L10nBundle = Record<string, string>;

let bundle: L10nBundle = {};
let numberLocale = 'en-US';

/** Counts are grouped the display language's way (`<html lang>`); English, or an unknown tag, as en-US. */
export function setNumberLocale(lang: string | null | undefined): void {
  numberLocale = 'en-US';
  if (!lang || /^en\b/i.test(lang)) return;
  try {
    if (Intl.NumberFormat.supportedLocalesOf([lang]).length) numberLocale = lang;
  } catch {
    // not a language tag
  }
}

export function formatNumber(n: number): string {
  return n.toLocaleString(numberLocale);
}

/** Sets the translations; anything but a flat object of strings leaves English. */
export function configureL10n(contents: unknown): void {
  bundle = {};
  if (typeof contents !== 'object' || contents === null || Array.isArray(contents)) return;
  for (const [k, v] of Object.entries(contents as Record<string, unknown>)) if (typeof v === 'string') bundle[k] = v;
}

/** The bundle the host put on the page's root element (`data-l10n`), JSON; English when absent or bad. */
export function configureL10nFromAttribute(json: string | null | undefined): void {
  if (!json) return configureL10n(undefined);
  try {
    configureL10n(JSON.parse(json));
  } catch {
    configureL10n(undefined);
  }
}

/** The translation of `key` (its English text), with {0}, {1}, … replaced by `args`. */
export function t(key: string, ...args: (string | number)[]): string {
  const message = Object.prototype.hasOwnProperty.call(bundle, key) ? bundle[key]! : key;
  return args.length ? message.replace(/\{(\d+)\}/g, (m, i: string) => (Number(i) < args.length ? String(args[Number(i)]) : m)) : message;
}
