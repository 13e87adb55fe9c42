import type { Context } from 'hono';
import { z } from 'zod';
import { invalid, pointer, ProblemError } from '../../runtime/problem.ts';
import { decodeCursor } from '../store/page.ts';

// The instants both PostgreSQL's timestamptz and Elasticsearch's dates take: years 0001-9999, UTC.
const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00Z');
const END_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * An RFC 3339 timestamp, handed on in UTC to the millisecond. RFC 3339 allows what the stores
 * refuse: an offset beyond ±15:59 (PostgreSQL), more than nine digits of a second
 * (Elasticsearch), a year 9999 pushed into 10000 by its offset. Given on as they came, each was
 * refused deep inside (a search answered 503 for a `to` of `…+22:19`); as one canonical instant
 * they are all taken, and an instant outside the years 0001-9999 is refused here, by name.
 */
export const time = z.iso
  .datetime({ offset: true, message: 'must be an RFC 3339 timestamp' })
  .transform((text, ctx) => {
    const ms = Date.parse(text);
    if (ms >= FIRST_INSTANT && ms <= END_INSTANT) return new Date(ms).toISOString();
    ctx.addIssue({
      code: 'custom',
      message: 'must be within the years 0001 to 9999 in UTC',
      input: text,
    });
    return z.NEVER;
  });

/** Query parameters shared by every list: `limit` (1–1000, default 50) and an opaque `cursor`. */
export const pageQuery = {
  limit: z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(1000))
    .default(50)
    .meta({ description: 'Items per page, 1–1000 (default 50).' }),
  cursor: z
    .string()
    .max(1024)
    .refine((c) => /^\d{1,19}$/.test(String(decodeCursor(c))), 'not a cursor this list returned')
    .optional()
    .meta({ description: 'The `nextCursor` of the previous page.' }),
};

// The strict object of each query shape, built once: zod compiles an object schema's parser the
// first time it runs (generated code), so a schema built per request was compiled per request
// (about 4% of the services process's CPU under the pipeline's API polls).
const querySchemas = new WeakMap<z.ZodRawShape, z.ZodObject>();

/** Parses the query string strictly: an unknown or repeated parameter is a 400, never ignored. */
export function parseQuery<S extends z.ZodRawShape>(
  c: Context,
  shape: S,
): z.output<z.ZodObject<S>> {
  const url = new URL(c.req.url);
  const seen = new Set<string>();
  for (const [key, value] of url.searchParams) {
    if (seen.has(key))
      throw invalid([{ pointer: pointer(['query', key]), detail: 'given more than once' }]);
    seen.add(key);
    const detail = unstorable(value);
    if (detail) throw invalid([{ pointer: pointer(['query', key]), detail }]);
  }
  let schema = querySchemas.get(shape) as z.ZodObject<S> | undefined;
  if (schema === undefined) {
    schema = z.strictObject(shape);
    querySchemas.set(shape, schema);
  }
  const parsed = schema.safeParse(Object.fromEntries(url.searchParams));
  if (!parsed.success) {
    throw invalid(
      parsed.error.issues.map((issue) => ({
        pointer: pointer([
          'query',
          ...(issue.code === 'unrecognized_keys' ? [issue.keys[0] ?? ''] : issue.path),
        ]),
        detail:
          issue.code === 'unrecognized_keys'
            ? `unknown parameter "${issue.keys.join('", "')}"`
            : issue.message,
      })),
    );
  }
  return parsed.data;
}

/** Why a string cannot be stored as given, or null: PostgreSQL's text and jsonb refuse U+0000. */
export function unstorable(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain U+0000 (NUL)';
  // jsonb refuses a lone UTF-16 surrogate; text would silently store U+FFFD in its place.
  if (!text.isWellFormed()) return 'must be well-formed Unicode (a lone UTF-16 surrogate)';
  return null;
}

// A JSON text can only carry U+0000 or a lone surrogate as an escape (a raw control character is
// no JSON, and the body was decoded from UTF-8): without one, the walk below is skipped.
const MAY_BE_UNSTORABLE = /\\u0000|\\ud[89a-f]/i;

/** A place in a JSON value and what is wrong there. */
export type JsonProblem = { path: (string | number)[]; detail: string };

/**
 * The first problem `check` finds in a JSON value, breadth first, with its path: no recursion
 * whatever the nesting, and a path built (from parent links) only for the place found. `value`
 * is asked about every value, with its depth (the root's is 1); `key` about every key of an
 * object, before the value under it, and says whether its problem lies at the key or at the
 * object holding it.
 */
export function findInJson(
  root: unknown,
  check: {
    value?: (value: unknown, depth: number) => string | null;
    key?: (key: string) => { detail: string; at: 'key' | 'object' } | null;
  },
): JsonProblem | null {
  const nodes: { value: unknown; parent: number; key: string | number; depth: number }[] = [
    { value: root, parent: -1, key: '', depth: 1 },
  ];
  const pathOf = (index: number) => {
    const path: (string | number)[] = [];
    for (let i = index; i > 0; i = nodes[i]!.parent) path.unshift(nodes[i]!.key);
    return path;
  };
  for (let i = 0; i < nodes.length; i++) {
    const { value, depth } = nodes[i]!;
    const detail = check.value?.(value, depth) ?? null;
    if (detail) return { path: pathOf(i), detail };
    if (Array.isArray(value)) {
      value.forEach((item, k) => nodes.push({ value: item, parent: i, key: k, depth: depth + 1 }));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        const problem = check.key?.(key) ?? null;
        if (problem)
          return {
            path: problem.at === 'key' ? [...pathOf(i), key] : pathOf(i),
            detail: problem.detail,
          };
        nodes.push({ value: item, parent: i, key, depth: depth + 1 });
      }
    }
  }
  return null;
}

/** The first string or key of a parsed JSON body that cannot be stored, with its path. */
function firstUnstorable(body: unknown): JsonProblem | null {
  return findInJson(body, {
    value: (value) => (typeof value === 'string' ? unstorable(value) : null),
    key: (key) => {
      const detail = unstorable(key);
      return detail ? { detail: `a key ${detail}`, at: 'key' } : null;
    },
  });
}

/**
 * Reads a JSON body and validates it, pointing at each wrong field. A string PostgreSQL cannot
 * store (U+0000, a lone surrogate) is refused first, at its place: it reached the database,
 * whose error named no field (or, for a lone surrogate in text, was silently replaced).
 */
export async function parseJsonBody<T extends z.ZodType>(
  c: Context,
  schema: T,
): Promise<z.output<T>> {
  const mediaType = (c.req.header('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new ProblemError(
      415,
      'unsupported-media-type',
      'Unsupported media type',
      'Send application/json.',
    );
  }
  let body: unknown;
  const text = await c.req.text();
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw invalid([{ pointer: '', detail: `the body is not JSON: ${(err as Error).message}` }]);
  }
  const bad = MAY_BE_UNSTORABLE.test(text) ? firstUnstorable(body) : null;
  if (bad) throw invalid([{ pointer: pointer(bad.path), detail: bad.detail }]);
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw invalid(
      parsed.error.issues.slice(0, 20).map((issue) => ({
        pointer: pointer(
          issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path,
        ),
        detail: issue.message,
      })),
    );
  }
  return parsed.data;
}

/** A record id: a positive 64-bit integer, in decimal. */
export const recordId = z
  .string()
  .regex(/^[1-9]\d{0,18}$/, 'must be a record id')
  .meta({ description: 'A record id: a positive 64-bit integer.' });

/** A record id in a path: a positive 64-bit integer; anything else is no record (404). */
export function parseId(value: string, what: string): string {
  if (!recordId.safeParse(value).success)
    throw new ProblemError(404, 'not-found', 'Not found', `No ${what} ${value}.`);
  return value;
}
