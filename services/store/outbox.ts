import type { Queryable } from './db.ts';

/** Record types projected to Elasticsearch, one index (behind an alias) each. */
export const recordTypes = [
  'incident',
  'problem',
  'change',
  'alert',
  'ci',
  'asset',
  'service',
  'known_error',
] as const;
/** One projected record type. */
export type RecordType = (typeof recordTypes)[number];

const ENQUEUE = `
-- Note records changed in this transaction for the search projection. Params: type, ids.
INSERT INTO search_outbox (record_type, record_id)
SELECT $1, unnest($2::bigint[])`;

/** Records that these records changed, in the caller's transaction, so search catches up. */
export async function enqueueOutbox(q: Queryable, type: RecordType, ids: string[]): Promise<void> {
  if (ids.length > 0) await q.query(ENQUEUE, [type, ids]);
}

const CLAIM = `
-- The oldest outbox rows not held by another drainer. Params: limit.
SELECT id, record_type, record_id FROM search_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`;

/** Claims up to `limit` outbox rows inside the caller's transaction. */
export async function claimOutbox(
  q: Queryable,
  limit: number,
): Promise<{ id: string; type: RecordType; recordId: string }[]> {
  const { rows } = await q.query<{ id: string; record_type: RecordType; record_id: string }>(
    CLAIM,
    [limit],
  );
  return rows.map((r) => ({ id: r.id, type: r.record_type, recordId: r.record_id }));
}

/** Deletes drained outbox rows. */
export async function deleteOutbox(q: Queryable, ids: string[]): Promise<void> {
  await q.query(
    '-- Drop drained outbox rows. Params: ids.\nDELETE FROM search_outbox WHERE id = ANY($1::bigint[])',
    [ids],
  );
}

/** How many changes wait to reach Elasticsearch. */
export async function outboxBacklog(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ n: string }>(
    '-- Outbox backlog. Params: none.\nSELECT count(*) AS n FROM search_outbox',
  );
  return Number(rows[0]?.n ?? 0);
}
