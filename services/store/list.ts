import type { Queryable } from './db.ts';
import { decodeCursor, encodeCursor, type Page } from './page.ts';

/**
 * How a field is stored, which decides how it is filtered, sorted and written. `decimal` (an
 * exact amount, served as a string) and `date` (a calendar day, `YYYY-MM-DD`) are never floats or
 * instants.
 */
export type FieldType =
  'id' | 'text' | 'int' | 'decimal' | 'bool' | 'time' | 'date' | 'texts' | 'json';

/** One field of a record: its column and type; `sortable` where the column is never NULL. */
export type Field = { column: string; type: FieldType; sortable?: true; writable?: true };

/** Declares a field of a record (a column, its type, and whether it sorts or is writable). */
export const field = (column: string, type: FieldType, extra: Partial<Field> = {}): Field => ({
  column,
  type,
  ...extra,
});

/** One structured predicate of a list: field, operator, and one or more values. */
export type Predicate = {
  field: string;
  op: '=' | '!=' | '<' | '<=' | '>' | '>=';
  values: (string | number | boolean)[];
};

/** A list request: predicates, free text, sort and page. */
export type ListQuery = {
  predicates: Predicate[];
  q: string | null;
  sort: { field: string; descending: boolean };
  limit: number;
  cursor: string | null;
};

/** What a record list reads: its table, its fields by API name, and the columns `q` searches. */
export type ListSource = {
  table: string;
  fields: Record<string, Field>;
  searchColumns: readonly string[];
};

const SQL_CAST: Record<FieldType, string> = {
  id: 'bigint',
  text: 'text',
  int: 'int',
  decimal: 'numeric',
  bool: 'boolean',
  time: 'timestamptz',
  date: 'date',
  texts: 'text',
  json: 'jsonb',
};

/** The select list of a record's fields, each column aliased to its API name. */
export function selectColumns(fields: Record<string, Field>): string {
  return Object.entries(fields)
    .map(([name, field]) => `${field.column} AS "${name}"`)
    .join(', ');
}

/**
 * Lists a record's rows by structured predicates and free text, sorted on one field (then id),
 * paged with a keyset cursor; rows come back keyed by API name. Fields were checked by the caller
 * against `source.fields`.
 */
export async function listRows(
  q: Queryable,
  source: ListSource,
  query: ListQuery,
): Promise<Page<Record<string, unknown>>> {
  const { fields } = source;
  const params: unknown[] = [];
  const param = (value: unknown, cast: string) => {
    params.push(value);
    return `$${params.length}::${cast}`;
  };
  const where: string[] = [];
  for (const p of query.predicates) {
    const field = fields[p.field]!;
    const cast = SQL_CAST[field.type];
    if (field.type === 'texts') {
      // An array field matches when it holds any of the values (or none of them, for !=).
      const any = `${field.column} && ${param(p.values.map(String), 'text[]')}`;
      where.push(p.op === '!=' ? `NOT (${any})` : any);
    } else if (p.op === '=' || p.op === '!=') {
      const list = param(
        p.values.map((v) => String(v)),
        `${cast}[]`,
      );
      where.push(
        p.op === '=' ? `${field.column} = ANY(${list})` : `NOT (${field.column} = ANY(${list}))`,
      );
    } else {
      where.push(`${field.column} ${p.op} ${param(String(p.values[0]), cast)}`);
    }
  }
  if (query.q && source.searchColumns.length > 0) {
    const pattern = param(`%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, 'text');
    where.push(`(${source.searchColumns.map((c) => `${c} ILIKE ${pattern}`).join(' OR ')})`);
  }
  const sortField = fields[query.sort.field]!;
  const direction = query.sort.descending ? 'DESC' : 'ASC';
  const after = query.cursor === null ? null : decodeCursor(query.cursor);
  if (Array.isArray(after) && after.length === 2) {
    const cmp = query.sort.descending ? '<' : '>';
    where.push(
      `(${sortField.column}, id) ${cmp} (${param(after[0], SQL_CAST[sortField.type])}, ${param(after[1], 'bigint')})`,
    );
  }
  const { rows } = await q.query<Record<string, unknown>>(
    `-- A page of records. Params: the predicates' values, the search pattern, the cursor, in order.
SELECT ${selectColumns(fields)}, ${sortField.column} AS "__sort", id AS "__id" FROM ${source.table}
${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
ORDER BY ${sortField.column} ${direction}, id ${direction}
LIMIT ${query.limit + 1}`,
    params,
  );
  const more = rows.length > query.limit;
  const kept = more ? rows.slice(0, query.limit) : rows;
  const last = kept.at(-1);
  return {
    items: kept.map(({ __sort: _, __id: _id, ...row }) => row),
    nextCursor: more && last ? encodeCursor([last.__sort, last.__id]) : null,
  };
}
