import { withTransaction, type Pool, type Queryable } from './db.ts';

const MARK_PROCESSED = `
-- Mark inbox rows correlated. Params: ids.
UPDATE alert_inbox SET processed_at = now() WHERE id = ANY($1::bigint[])`;

/** Marks rows correlated, in the transaction that stored their effects. */
export async function markProcessed(q: Queryable, ids: string[]): Promise<void> {
  await q.query(MARK_PROCESSED, [ids]);
}

/** Exported for the test that checks its plan. */
export const PENDING = `
-- Count accepted alerts not yet correlated. Params: none. Run after PENDING_PLAN (pendingInbox).
SELECT count(*)::bigint AS pending, min(received_at) AS oldest FROM alert_inbox
WHERE processed_at IS NULL`;

/**
 * How pendingInbox's count is planned: through the pending index alone, whatever the statistics
 * say. Analyzed during a burst (most rows pending), the planner chose a parallel scan of the whole
 * inbox, processed rows kept for retention included (0.3-0.6 s with three processes on two cores,
 * every few seconds in a bench:pipeline run whose correlator was behind). A plain index scan, not
 * a bitmap one: it skips the entries of rows correlated since the last vacuum once a scan has
 * marked them, as the correlator's reads of the same index do. Its cost follows the backlog, not
 * the table that retention keeps: 0.3-1.4 s for 118,000-150,000 pending in that bench (slower
 * there than the parallel scan of its whole 300,000-row inbox, 0.3-0.6 s), milliseconds for a few
 * hundred; a scan's cost grows with every day of alerts retention keeps.
 */
export const PENDING_PLAN =
  'SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL max_parallel_workers_per_gather = 0';

/** Counts pending alerts; see PENDING_PLAN. */
export async function pendingInbox(
  pool: Pool,
): Promise<{ pending: number; oldest: string | null }> {
  const rows = await withTransaction(pool, async (tx) => {
    await tx.query(PENDING_PLAN);
    return (await tx.query<{ pending: string; oldest: string | null }>(PENDING)).rows;
  });
  return { pending: Number(rows[0]?.pending ?? 0), oldest: rows[0]?.oldest ?? null };
}

/** Exported for the test that checks its plan reads one row. */
export const OLDEST_PENDING = `
-- The oldest accepted alert not yet correlated, and how long it has waited (by the database's
-- clock, which stamped it). Params: none. Ordered by the column, not the output's text alias
-- 'id', which would sort every pending row as text instead of reading the index's first.
SELECT id::text AS id, (extract(epoch FROM now() - received_at) * 1000)::float8 AS waited_ms
FROM alert_inbox WHERE processed_at IS NULL ORDER BY alert_inbox.id LIMIT 1`;

/**
 * The oldest accepted alert not yet correlated and how long it has waited, or null: one row of
 * the pending index, however long the backlog (the inbox sweep asks every few seconds).
 */
export async function oldestPendingInbox(
  q: Queryable,
): Promise<{ id: string; waitedMs: number } | null> {
  const { rows } = await q.query<{ id: string; waited_ms: number }>(OLDEST_PENDING);
  const row = rows[0];
  return row === undefined ? null : { id: row.id, waitedMs: row.waited_ms };
}

const FIRST_PENDING = `
-- The oldest accepted alert not yet correlated. Params: none.
SELECT min(id)::text AS id FROM alert_inbox WHERE processed_at IS NULL`;

/** The id of the oldest inbox row not yet correlated, or null. */
export async function firstPendingInbox(q: Queryable): Promise<string | null> {
  const { rows } = await q.query<{ id: string | null }>(FIRST_PENDING);
  return rows[0]?.id ?? null;
}

const SET_ASIDE = `
-- Mark an inbox row processed without effects, and tell the admins why. Params: id, error.
WITH aside AS (
  UPDATE alert_inbox SET processed_at = now() WHERE id = $1 AND processed_at IS NULL
  RETURNING id, delivery_id, source, alert
)
INSERT INTO ingest_notices (delivery_id, source, kind, summary, details)
SELECT delivery_id, source, 'correlation-failed',
  'An accepted alert could not be correlated and was set aside',
  jsonb_build_object('inboxId', id::text, 'error', $2::text, 'alert', alert)
FROM aside`;

/**
 * Sets aside an accepted alert whose correlation fails every time: marked processed (so the rest
 * of the inbox moves on) and recorded as an admin notice with the error and the alert. The raw
 * delivery stays.
 */
export async function setInboxAside(q: Queryable, id: string, error: string): Promise<void> {
  await q.query(SET_ASIDE, [id, error.slice(0, 2000)]);
}
