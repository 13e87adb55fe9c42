import { z } from 'zod';
import { invalid, pointer } from '../../runtime/problem.ts';
import type { Field, Predicate } from '../store/list.ts';
import { decodeCursor } from '../store/page.ts';
import { pageQuery, time } from './validate.ts';

/** The query parameters of every sorted record list: page, `filter`, `q`, `sort` and `fields`. */
export const listQueryShape = {
  ...pageQuery,
  cursor: z
    .string()
    .max(1024)
    .refine((c) => {
      const position = decodeCursor(c);
      return Array.isArray(position) && position.length === 2;
    }, 'not a cursor this list returned')
    .optional()
    .meta({ description: 'The `nextCursor` of the previous page.' }),
  filter: z.string().max(8192).optional().meta({
    description:
      'Predicates joined by `;`, each `field` `op` `value` with op `=`, `!=`, `<`, `<=`, `>`, `>=`; `=` and `!=` take several values joined by `|` (`state=new|in_progress;priority<=2`).',
  }),
  q: z.string().trim().max(1024).optional().meta({ description: 'Words to look for in the text.' }),
  sort: z
    .string()
    .max(64)
    .optional()
    .meta({ description: 'One sortable field, `-` first for descending (default `-id`).' }),
  fields: z
    .string()
    .max(2048)
    .optional()
    .meta({ description: 'The fields to return, joined by `,` (default: all).' }),
};

const FILTER_CLAUSE = /^([A-Za-z]+)(<=|>=|!=|=|<|>)(.*)$/s;

/** A real calendar day `YYYY-MM-DD` from 0001 on (2026-02-30 is refused, not rolled over), or null. */
function calendarDay(raw: string): string | null {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? Date.parse(`${raw}T00:00:00Z`) : NaN;
  return !Number.isNaN(ms) && !raw.startsWith('0000') && new Date(ms).toISOString().startsWith(raw)
    ? raw
    : null;
}

function parseValue(field: Field, raw: string): string | number | boolean | null {
  switch (field.type) {
    case 'id':
      return /^[1-9]\d{0,18}$/.test(raw) ? raw : null;
    case 'int':
      return /^-?\d{1,9}$/.test(raw) ? Number(raw) : null;
    case 'decimal':
      return /^-?\d{1,15}(\.\d{1,6})?$/.test(raw) ? raw : null;
    case 'bool':
      return raw === 'true' ? true : raw === 'false' ? false : null;
    case 'time': {
      // An RFC 3339 timestamp or a calendar day (its midnight, UTC), nothing else: Date.parse
      // read "1" and "-1" as 2001, "2026-02-30" as 2 March, "12/31/1999" in the server's own
      // time zone, and a year past 9999 that PostgreSQL then refused without naming the filter.
      const instant = time.safeParse(raw);
      if (instant.success) return instant.data;
      const day = calendarDay(raw);
      return day === null ? null : `${day}T00:00:00.000Z`;
    }
    case 'date':
      return calendarDay(raw);
    case 'text':
    case 'texts':
      return raw.length <= 1024 ? raw : null;
    case 'json':
      return null;
  }
}

/**
 * Parses `filter`: predicates joined by `;`, each `field` `op` `value` with op one of `=`, `!=`,
 * `<`, `<=`, `>`, `>=`; `=` and `!=` take several values joined by `|`. An unknown field, an
 * operator the field cannot take or a value of the wrong type is a 400 naming it. `what` names
 * the record type in messages.
 */
export function parseFilter(
  what: string,
  fields: Record<string, Field>,
  filter: string | undefined,
): Predicate[] {
  if (!filter) return [];
  const at = pointer(['query', 'filter']);
  return filter
    .split(';')
    .filter((clause) => clause.trim() !== '')
    .map((clause) => {
      const match = FILTER_CLAUSE.exec(clause.trim());
      if (!match) throw invalid([{ pointer: at, detail: `"${clause}" is not field<op>value` }]);
      const [, name, op, raw] = match as unknown as [string, string, Predicate['op'], string];
      const field = Object.hasOwn(fields, name) ? fields[name] : undefined;
      if (!field || field.type === 'json')
        throw invalid([{ pointer: at, detail: `unknown field "${name}" for ${what}s` }]);
      const many = op === '=' || op === '!=';
      if (!many && (field.type === 'texts' || field.type === 'bool'))
        throw invalid([{ pointer: at, detail: `"${name}" takes only = and !=` }]);
      const values = (many ? raw.split('|') : [raw]).map((v) => {
        const value = parseValue(field, v);
        if (value === null)
          throw invalid([
            { pointer: at, detail: `"${v}" is not a valid ${field.type} for "${name}"` },
          ]);
        return value;
      });
      return { field: name, op, values };
    });
}

/** Parses `sort`: one sortable field, `-` for descending; anything else is a 400 listing them. */
export function parseSort(
  what: string,
  fields: Record<string, Field>,
  sort: string | undefined,
): { field: string; descending: boolean } {
  const raw = sort ?? '-id';
  const descending = raw.startsWith('-');
  const name = raw.replace(/^[-+]/, '');
  if (!Object.hasOwn(fields, name) || !fields[name]!.sortable) {
    const sortable = Object.keys(fields).filter((k) => fields[k]!.sortable);
    throw invalid([
      {
        pointer: pointer(['query', 'sort']),
        detail: `cannot sort ${what}s by "${name}"; sort by one of ${sortable.join(', ')} (- for descending)`,
      },
    ]);
  }
  return { field: name, descending };
}

/**
 * Parses `fields`: the names to return, each a stored field or one of `computed` (derived when
 * served); null when absent (every field). An unknown name is a 400.
 */
export function parseFields(
  fields: Record<string, Field>,
  value: string | undefined,
  computed: readonly string[] = [],
): string[] | null {
  if (!value) return null;
  const names = value.split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !computed.includes(n) && !Object.hasOwn(fields, n));
  if (unknown.length > 0)
    throw invalid([
      { pointer: pointer(['query', 'fields']), detail: `unknown field "${unknown.join('", "')}"` },
    ]);
  return names;
}

/** Keeps only the requested fields of a record (all of them when `fields` is null). */
export function project(
  record: Record<string, unknown>,
  fields: string[] | null,
): Record<string, unknown> {
  if (!fields) return record;
  return Object.fromEntries(fields.map((f) => [f, record[f]]));
}
