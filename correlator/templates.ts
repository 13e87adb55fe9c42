/**
 * Message templates: alert texts with their variable parts (addresses, ids, numbers, times, the
 * CI's own name…) replaced by placeholders, so that the same failure mode on different CIs and
 * values reduces to the same string. Pure string work, no `natural`; `similarity.ts` compares the
 * templates.
 */

/** The placeholders toTemplate writes, each as `<name>`; the similarity index keeps them whole. */
export const placeholders = [
  'ci',
  'url',
  'email',
  'mention',
  'uuid',
  'time',
  'ip',
  'mac',
  'id',
  'hex',
  'quoted',
  'path',
  'rate',
  'duration',
  'size',
  'pct',
  'version',
  'num',
] as const;

/** One placeholder name. */
export type Placeholder = (typeof placeholders)[number];

/** Longest text toTemplate reads; alert titles are at most 1,024 characters, descriptions 64 KiB. */
export const maxTemplateInput = 2048;

const num = String.raw`\d+(?:[.,]\d+)*(?:e[-+]?\d+)?`;
// A digit-led value must not continue a word or a decimal (`p99`, `x86_64`, `v1.2` stay as they are).
const start = String.raw`(?<![\w.])`;
const end = String.raw`(?!\w)`;
const months = 'jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec';
const clock = String.raw`\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:\s?[ap]\.?m\.?)?(?:\s?(?:z|utc|gmt|[+-]\d{2}:?\d{2}))?`;
const hex4 = '[0-9a-f]{1,4}';
const ipv4 = String.raw`\d{1,3}(?:\.\d{1,3}){3}`;
const rateUnit = String.raw`[kmgt]?i?b(?:it)?(?:/s|ps)|[kmgt]?bps|(?:[kmb]\s?)?(?:req|reqs|requests|ops|msgs?|messages|events|queries|errors|packets|tx)\s?/\s?(?:s|sec|second|m|min|minute)|rps|qps|tps|iops|pps|/s|/sec|/min|per (?:second|sec|minute|min|hour)`;
const durationUnit = String.raw`ns|us|µs|ms|msecs?|millis(?:econds?)?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|mo|months?|y|yrs?|years?`;
const sizeUnit = String.raw`[kmgtpe]i?b|bytes?|b|[kmgtpe]`;
const pctUnit = String.raw`%|percent|pct`;

/**
 * One masking pass: what it finds, a cheap test that lets a text without its trigger skip it, and
 * what it writes (its placeholder, unless the match decides).
 */
type Rule = {
  readonly name: Placeholder;
  readonly pattern: RegExp;
  readonly when: (text: string) => boolean;
  readonly replace: (match: string, unit: string | undefined) => string;
};

const hasDigit = (text: string) => /\d/.test(text);
const rule = (
  name: Placeholder,
  source: string,
  when: (text: string) => boolean,
  replace: Rule['replace'] = () => `<${name}>`,
): Rule => ({ name, pattern: new RegExp(source, 'gi'), when, replace });

/**
 * The masking passes, most specific first. Each pass sees the output of the previous ones; every
 * placeholder is letters in angle brackets, which no later pass matches (no digit, and the path
 * pass does not start after `>`), so a value is masked once, by the first rule that claims it.
 */
const rules: readonly Rule[] = [
  rule(
    'url',
    String.raw`\b[a-z][a-z0-9+.-]{1,15}://(?:<ci>|[^\s"'<>()[\]{}|\\^\x60])+`,
    (t) => t.includes('://'),
    maskUrl,
  ),
  rule('email', String.raw`(?<![\w.%+-])[\w.%+-]+@(?:<ci>|[a-z0-9-]+(?:\.[a-z0-9-]+)*)`, (t) =>
    t.includes('@'),
  ),
  // A notification handle (`@slack-team-payments`, `@pagerduty-dba`): where the alert is sent, not
  // what failed. Kept as a word, a monitor's team handle made two of its different failures alike.
  rule('mention', String.raw`(?<![\w.%+-])@[a-z0-9][\w.-]*(?<![.-])`, (t) => t.includes('@')),
  rule(
    'uuid',
    String.raw`(?<![a-z0-9])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![a-z0-9])`,
    (t) => t.includes('-'),
  ),
  rule(
    'time',
    [
      String.raw`${start}\d{4}-\d{2}-\d{2}(?:[t ]${clock})?${end}`,
      String.raw`${start}\d{4}[/.]\d{1,2}[/.]\d{1,2}(?: ${clock})?${end}`,
      String.raw`${start}\d{1,2}[/.]\d{1,2}[/.]\d{2,4}(?: ${clock})?(?![\w.])`,
      String.raw`\b(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,? )?(?:\d{1,2} (?:${months})[a-z]*\.?(?: \d{4})?|(?:${months})[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?(?:,? \d{4})?)(?:,?(?: at)? ${clock}(?: \d{4})?)?${end}`,
      String.raw`(?<![\w:.])${clock}(?![\w:])`,
    ].join('|'),
    hasDigit,
  ),
  rule('ip', String.raw`${start}${ipv4}(?:/\d{1,2}|:\d{1,5})?(?![\w]|\.\d)`, (t) =>
    t.includes('.'),
  ),
  rule('mac', String.raw`(?<![\w:-])[0-9a-f]{2}(?:[:-][0-9a-f]{2}){5}(?![\w:-])`, hasDigit),
  rule(
    'ip',
    [
      String.raw`\[[0-9a-f:.]*:[0-9a-f:.]*:[0-9a-f:.]*(?:%\w+)?\](?::\d{1,5})?`,
      String.raw`(?<![\w:.])(?=[0-9a-f:.]*\d)(?:(?:${hex4}:){7}${hex4}|(?:${hex4}(?::${hex4}){0,6})?::(?:${hex4}(?::${hex4}){0,6})?(?:${ipv4})?)(?:%\w+)?(?![\w:])`,
    ].join('|'),
    (t) => t.includes('::') || t.includes(':['),
  ),
  // Kubernetes pod names: <deployment>-<replica-set hash>-<5-character suffix>.
  rule(
    'id',
    String.raw`(?<=[a-z0-9]-)(?=[a-z]*\d)[bcdfghjklmnpqrstvwxz2-9]{8,10}-[bcdfghjklmnpqrstvwxz2-9]{5}(?![\w-])`,
    hasDigit,
  ),
  rule(
    'hex',
    String.raw`(?<!\w)(?:0x[0-9a-f]+|(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,})(?!\w)`,
    hasDigit,
  ),
  rule(
    'quoted',
    String.raw`(?<!\w)(?<q>["'\x60])[^\s"'\x60]{1,200}\k<q>(?!\w)`,
    (t) => /["'\x60]/.test(t),
    maskQuoted,
  ),
  rule(
    'path',
    String.raw`(?<![\w>/.:~-])(?:~|\.{1,2})?/[\w.@%+~-]+(?:/[\w.@%+~-]*)*|(?<!\w)[a-z]:\\[^\s"'<>|]*`,
    (t) => t.includes('/') || t.includes('\\'),
    maskPath,
  ),
  rule('version', String.raw`(?<![\w.])v?\d+\.\d+\.\d+(?:[-+][\w.]+)?${end}`, (t) =>
    t.includes('.'),
  ),
  // One pass for every digit-led quantity; the unit decides the placeholder (see quantity()).
  rule(
    'num',
    String.raw`${start}(?:(?:\d+(?:\.\d+)?(?:ms|us|µs|ns|d|h|m|s)){2,}|${num}(?:\s?(?<unit>${rateUnit}|${durationUnit}|${pctUnit}|${sizeUnit}))?)${end}`,
    hasDigit,
    quantity,
  ),
];

/**
 * A quoted value (a job, queue or database name…) is masked, unless it is a placeholder already,
 * a path (kept as paths are), or holds the CI's own name: a CloudWatch alarm "HighCPU-web01" is
 * about that CI, and its other words say what failed.
 */
function maskQuoted(match: string): string {
  const inner = match.slice(1, -1);
  if (/^<[a-z]+>$/.test(inner) || inner.includes('<ci>')) return inner;
  return /^(?:~|\.{0,2})\/|^[a-z]:\\/i.test(inner) ? maskPath(inner) : '<quoted>';
}

/** Mount points and binaries without digits name the failure (`/var`); numbered ones are values. */
function maskPath(match: string): string {
  return /\d/.test(match) ? '<path>' : match;
}

const durationOnly = new RegExp(`^(?:${durationUnit})$`);

/** The placeholder of a number by its unit: a rate, a duration, a percentage, a size or a number. */
function quantity(match: string, unit: string | undefined): string {
  if (unit === undefined) return /^\d+(?:\.\d+)?[a-zµ]/i.test(match) ? '<duration>' : '<num>';
  const u = unit.toLowerCase();
  if (u.includes('/') || u.endsWith('ps') || /^(?:[rqt]ps|iops|per )/.test(u)) return '<rate>';
  if (u === '%' || u === 'percent' || u === 'pct') return '<pct>';
  if (durationOnly.test(u)) return '<duration>';
  return '<size>';
}

/** Keeps a URL's shape (its path words) and masks host, ids, query and fragment. */
function maskUrl(match: string): string {
  const trailing = /[.,;:!?]+$/.exec(match)?.[0] ?? '';
  const url = match.slice(0, match.length - trailing.length);
  const path = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(url)?.[1] ?? '';
  const segments = path
    .split('/')
    .map((segment) => (/\d/.test(segment) && !/^v\d+$/i.test(segment) ? '<id>' : segment));
  return `<url>${segments.join('/').replace(/\/+$/, '')}${trailing}`;
}

const ciPatterns = new Map<string, RegExp | null>();
// Enough for an estate's alerting CIs: compiling a CI's pattern costs ≈ 70 µs, using it ≈ 1–6 µs,
// holding it ≈ 0.4 KB.
const maxCiPatterns = 16_384;

/**
 * The pattern of a CI's name and its obvious variants: any case, with or without its domain
 * suffix and port, with `-`, `_`, `.`, a space or nothing between its parts, numbers with or
 * without leading zeros (`web-01`, `WEB01`, `web_1.prod.example.com:9100`).
 */
function ciPattern(ci: string): RegExp | null {
  const cached = ciPatterns.get(ci);
  if (cached !== undefined) return cached;
  const name = ci.trim().toLowerCase();
  const labels = name.split('.');
  const fqdn = labels.length > 1 && /[a-z]/.test(labels[0] ?? '') && !name.includes(' ');
  const short = fqdn && (labels[0]?.replace(/[^a-z0-9]/g, '').length ?? 0) >= 2 ? labels[0]! : name;
  const parts = short.split(/[-_.\s]+/).filter((part) => part !== '');
  let pattern: RegExp | null = null;
  if (parts.join('').replace(/[^\p{L}\p{N}]/gu, '').length >= 2) {
    const body = parts
      .map((part) =>
        /^\d+$/.test(part) ? `0*${part.replace(/^0+(?=\d)/, '')}` : escapeRegExp(part),
      )
      .join(String.raw`[-_.\s]?`);
    pattern = new RegExp(
      String.raw`(?<![a-z0-9])${body}(?:\.[a-z][a-z0-9-]*)*(?::\d{1,5}(?!\d))?(?![a-z0-9])`,
      'gi',
    );
  }
  if (ciPatterns.size >= maxCiPatterns) {
    // Bounded: forget the oldest CI; one regex compile is cheap next to holding every CI ever seen.
    const oldest = ciPatterns.keys().next();
    if (oldest.done !== true) ciPatterns.delete(oldest.value);
  }
  ciPatterns.set(ci, pattern);
  return pattern;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * Word boundaries inside CamelCase names, so that Prometheus alert names (`KubePodCrashLooping`,
 * `HighCPUUsage`, `HTTPError`) read like the other tools' sentences; units (`GiB`, `MBps`) and
 * one-letter prefixes (`iOS`) are not split.
 */
const camelCase = /(?<=[a-z]{2})(?=[A-Z][a-z]|[A-Z]{2,}(?![a-z]))|(?<=[A-Z]{2})(?=[A-Z][a-z]{2,})/g;

/**
 * Reduces an alert text to its template: the CI's own name, URLs, e-mail addresses, UUIDs,
 * timestamps, IP and MAC addresses, pod and hex ids, quoted values, numbered paths, rates,
 * durations, sizes, percentages, versions and numbers become placeholders; CamelCase words are
 * split, case and whitespace folded, and repeated placeholders collapsed.
 */
export function toTemplate(text: string, ci?: string | null): string {
  let template = text.length > maxTemplateInput ? text.slice(0, maxTemplateInput) : text;
  const own = ci ? ciPattern(ci) : null;
  if (own) template = template.replace(own, '<ci>');
  // Before masking, so that the words a split frees are masked as they would be with spaces.
  template = template.replace(camelCase, ' ');
  for (const { pattern, when, replace } of rules) {
    if (!when(template)) continue;
    template = template.replace(pattern, (match: string, ...args: unknown[]) => {
      // With named groups (the quoted and quantity passes) the last argument is the groups object.
      const groups = args.at(-1);
      const unit = typeof groups === 'object' ? (groups as { unit?: string }).unit : undefined;
      return replace(match, unit);
    });
  }
  return (
    template
      .toLowerCase()
      // A list of values has no fixed length; "<ip>, <ip>" is the same failure as "<ip>".
      .replace(/(<[a-z]+>)(?:[\s,;|/]*(?:and\s+)?\1)+/g, '$1')
      .replace(/\s+/g, ' ')
      .trim()
  );
}
