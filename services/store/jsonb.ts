/** JSON text that PostgreSQL's jsonb accepts, whatever strings a sender put in it. */
/** U+0000, which jsonb and text columns refuse, as the replacement character. */
export const stripNul = (text: string) => text.replaceAll('\u0000', '\uFFFD');

/**
 * A JSON.stringify replacer for jsonb, which refuses U+0000 and lone UTF-16 surrogates (from a
 * JSON escape such as "\\ud800", or a length bound cutting an emoji in two), in values or keys.
 */
function forJsonb(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return stripNul(value).toWellFormed();
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.some(([k]) => k.includes('\u0000') || !k.isWellFormed()))
      return Object.fromEntries(entries.map(([k, v]) => [stripNul(k).toWellFormed(), v]));
  }
  return value;
}

// JSON.stringify writes U+0000 and lone surrogates as escapes: where one may be, the value takes
// the slower pass through forJsonb (an escaped backslash can match too; that only costs time).
const JSONB_REFUSES = /\\u0000|\\ud[89a-f]/i;

/** JSON for a jsonb column; the slower cleaning pass runs only where it may be needed. */
export function toJsonb(value: unknown): string {
  const json = JSON.stringify(value);
  return JSONB_REFUSES.test(json) ? JSON.stringify(value, forJsonb) : json;
}
