import { isInteger, isSafeNumber, parse } from 'lossless-json';

// Deepest nesting of arrays and objects read. Webhooks nest a dozen levels; thousands overflow
// the stack of the recursive parser and of whatever walks the value after it (JSON.stringify).
const MAX_DEPTH = 256;

/** Throws when the JSON text nests arrays and objects deeper than MAX_DEPTH. */
function checkDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_DEPTH) throw new Error(`it nests deeper than ${MAX_DEPTH} levels`);
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

// A number of 16 or more digits where a value starts: the only place an integer beyond 2^53 can
// be. It may also match inside a string, which only costs the slower exact parse.
const LONG_INTEGER = /[:,[]\s*-?\d{16}/;

/**
 * Parses a webhook body without losing digits: an integer beyond 2^53 (a Prometheus group key, an
 * Opsgenie nanosecond timestamp) becomes a string of its exact digits instead of a rounded number.
 * Every other number is a plain number. Nesting deeper than MAX_DEPTH is an error. A body that
 * may hold such an integer goes through lossless-json, about four times slower than JSON.parse,
 * which reads every other body; lossless-json also refuses duplicate keys, where JSON.parse keeps
 * the last.
 */
export function parsePayload(text: string): unknown {
  checkDepth(text);
  if (!LONG_INTEGER.test(text)) return JSON.parse(text) as unknown;
  return parse(text, null, (digits) =>
    isSafeNumber(digits) || !isInteger(digits) ? Number(digits) : digits,
  );
}
