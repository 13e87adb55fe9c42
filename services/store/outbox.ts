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

export const CLAIM_REPEATS = `
-- Every outbox row of records already claimed, not held by another drainer (the claimed rows
-- themselves too: this transaction holds them; the caller leaves them out): the projection reads
-- each record's current state after this, so one write covers them all. Params: types, record ids.
-- One index look-up per claimed record, whatever the statistics say: the outbox is a queue, often
-- analyzed when a drain had just emptied it, and planned as one row its join scanned the whole
-- outbox once per claimed record (1.1-1.6 s a drain in a bench:pipeline run with a backlog).
SELECT o.id
FROM (SELECT DISTINCT t, r FROM unnest($1::text[], $2::bigint[]) AS c(t, r)) c
CROSS JOIN LATERAL (
  SELECT s.id FROM search_outbox s WHERE s.record_type = c.t AND s.record_id = c.r
  FOR UPDATE SKIP LOCKED) o`;

/**
 * Claims, inside the caller's transaction, the other outbox rows of records already claimed:
 * during a storm an incident changes with every correlation batch, and a backlog holds it many
 * times. Only rows committed before this call are seen; the records must be read after it.
 */
export async function claimRepeats(
  q: Queryable,
  claimed: readonly { id: string; type: RecordType; recordId: string }[],
): Promise<string[]> {
  if (claimed.length === 0) return [];
  const { rows } = await q.query<{ id: string }>(CLAIM_REPEATS, [
    claimed.map((r) => r.type),
    claimed.map((r) => r.recordId),
  ]);
  // Left out here, not in the statement: there every row of a record changed thousands of times
  // in a storm was compared with every claimed id (3.8 s against 0.25 s for 265,000 repeats of
  // 2,000 claimed rows; 16.6 s for one statement in a bench:pipeline run whose outbox had fallen
  // behind, so that the drain slowed as its backlog grew).
  const own = new Set(claimed.map((r) => r.id));
  return rows.map((r) => r.id).filter((id) => !own.has(id));
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
