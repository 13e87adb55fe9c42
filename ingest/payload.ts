import { isInteger, isSafeNumber, parse } from 'lossless-json';

// Deepest nesting of arrays and objects read. Webhooks nest a dozen levels; thousands overflow
// the stack of the recursive parser and of whatever walks the value after it (JSON.stringify).
const MAX_DEPTH = 256;

/**
 * Throws when a parsed value nests arrays and objects deeper than MAX_DEPTH, or has a key named
 * `__proto__` (which the maps read from it would drop). It walks the value with a stack of its
 * own (never recursion), so any depth is safe to check; the value's nodes are far fewer than its
 * text's characters (a scan of the text cost as much as parsing it).
 */
function checkShape(value: unknown): void {
  const nodes: unknown[] = [value];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop();
    const depth = depths.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > MAX_DEPTH) throw new Error(`it nests deeper than ${MAX_DEPTH} levels`);
    // JSON.parse keeps it as an own key, but every map read from the body (labels, annotations,
    // tags) is built by assignment, where "__proto__" sets the prototype instead: the key would
    // vanish without a word.
    if (!Array.isArray(node) && Object.hasOwn(node, '__proto__'))
      throw new Error('it has a key named "__proto__", which no map read from it can keep');
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child === null || typeof child !== 'object') continue;
      nodes.push(child);
      depths.push(depth + 1);
    }
  }
}

// A number of 16 or more digits where a value starts: the only place an integer beyond 2^53 can
// be. It may also match inside a string, which only costs the slower exact parse.
const LONG_INTEGER = /[:,[]\s*-?\d{16}/;

/**
 * Parses a webhook body without losing digits: an integer beyond 2^53 (a Prometheus group key, an
 * Opsgenie nanosecond timestamp) becomes a string of its exact digits instead of a rounded number.
 * Every other number is a plain number. Nesting deeper than MAX_DEPTH is an error. JSON.parse
 * (whose parser keeps its own stack: any depth parses) reads every body first; one that may hold
 * such an integer is then read again, within the depth checked, by lossless-json (recursive,
 * about four times slower), which also refuses duplicate keys, where JSON.parse keeps the last.
 */
export function parsePayload(text: string): unknown {
  const value = JSON.parse(text) as unknown;
  checkShape(value);
  if (!LONG_INTEGER.test(text)) return value;
  try {
    return parse(text, null, (digits) =>
      isSafeNumber(digits) || !isInteger(digits) ? Number(digits) : digits,
    );
  } catch (err) {
    // A key given twice, its first value nested deeper than JSON.parse's (last) value showed.
    if (err instanceof RangeError) throw new Error(`it nests deeper than ${MAX_DEPTH} levels`);
    throw err;
  }
}
