import type { Queryable } from './db.ts';
import { listRows, selectColumns, type ListQuery, type ListSource } from './list.ts';
import { enqueueOutbox, type RecordType } from './outbox.ts';
import type { Page } from './page.ts';

/** A record as served: its fields by API name, with its id and version (the ETag). */
export type StoredRecord = Record<string, unknown> & { id: string; version: number };

/**
 * A record type kept by its field registry (assets, services): the list source (table, fields,
 * the columns `q` searches), its name in the audit trail and the search projection, and how a row
 * keyed by API name is served.
 */
export type RecordStore<R extends StoredRecord> = ListSource & {
  type: RecordType;
  toRecord(row: Record<string, unknown>): R;
};

/** Reads one record by id. */
export async function getRecord<R extends StoredRecord>(
  q: Queryable,
  store: RecordStore<R>,
  id: string,
): Promise<R | null> {
  const { rows } = await q.query<Record<string, unknown>>(
    `-- One record. Params: id.
SELECT ${selectColumns(store.fields)} FROM ${store.table} WHERE id = $1`,
    [id],
  );
  return rows[0] ? store.toRecord(rows[0]) : null;
}

/** Reads one record by id and locks it for the caller's transaction. */
export async function lockRecord<R extends StoredRecord>(
  q: Queryable,
  store: RecordStore<R>,
  id: string,
): Promise<R | null> {
  const { rows } = await q.query<Record<string, unknown>>(
    `-- One record, locked. Params: id.
SELECT ${selectColumns(store.fields)} FROM ${store.table} WHERE id = $1 FOR UPDATE`,
    [id],
  );
  return rows[0] ? store.toRecord(rows[0]) : null;
}

/** Reads records by id, for the search projection. */
export async function getRecords<R extends StoredRecord>(
  q: Queryable,
  store: RecordStore<R>,
  ids: string[],
): Promise<R[]> {
  const { rows } = await q.query<Record<string, unknown>>(
    `-- Records by id. Params: ids.
SELECT ${selectColumns(store.fields)} FROM ${store.table} WHERE id = ANY($1::bigint[])`,
    [ids],
  );
  return rows.map((r) => store.toRecord(r));
}

/** A page of records by predicates, free text and one sort field; fields checked by the caller. */
export async function listRecords<R extends StoredRecord>(
  q: Queryable,
  store: RecordStore<R>,
  query: ListQuery,
): Promise<Page<R>> {
  const page = await listRows(q, store, query);
  return { items: page.items.map((r) => store.toRecord(r)), nextCursor: page.nextCursor };
}

function columnValues(
  store: RecordStore<StoredRecord>,
  values: Record<string, unknown>,
): { columns: string[]; params: unknown[] } {
  const columns: string[] = [];
  const params: unknown[] = [];
  for (const [name, value] of Object.entries(values)) {
    const field = Object.hasOwn(store.fields, name) ? store.fields[name] : undefined;
    if (!field) throw new Error(`${store.type} has no field ${name}`);
    columns.push(field.column);
    params.push(field.type === 'json' && value !== null ? JSON.stringify(value) : value);
  }
  return { columns, params };
}

/**
 * Creates a record from API-named values (validated by the caller) and notes it for the search
 * projection, in the caller's transaction.
 */
export async function insertRecord<R extends StoredRecord>(
  q: Queryable,
  store: RecordStore<R>,
  values: Record<string, unknown>,
): Promise<R> {
  const { columns, params } = columnValues(store, values);
  const { rows } = await q.query<Record<string, unknown>>(
    `-- Create a record. Params: its columns' values, in order.
INSERT INTO ${store.table} (${columns.join(', ')})
VALUES (${params.map((_, i) => `$${i + 1}`).join(', ')})
RETURNING ${selectColumns(store.fields)}`,
    params,
  );
  const record = store.toRecord(rows[0]!);
  await enqueueOutbox(q, store.type, [record.id]);
  return record;
}

/**
 * Writes API-named values to a locked record, bumps its version and notes it for the search
 * projection, in the caller's transaction.
 */
export async function updateRecord<R extends StoredRecord>(
  q: Queryable,
  store: RecordStore<R>,
  id: string,
  values: Record<string, unknown>,
): Promise<R> {
  const { columns, params } = columnValues(store, values);
  const set = columns.map((c, i) => `${c} = $${i + 2}`);
  const { rows } = await q.query<Record<string, unknown>>(
    `-- Update a record. Params: id, then its changed columns' values, in order.
UPDATE ${store.table} SET ${[...set, 'version = version + 1', 'updated_at = now()'].join(', ')}
WHERE id = $1
RETURNING ${selectColumns(store.fields)}`,
    [id, ...params],
  );
  await enqueueOutbox(q, store.type, [id]);
  return store.toRecord(rows[0]!);
}
