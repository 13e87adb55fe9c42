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
-- Accepted alerts not yet correlated, counted through the pending index up to $1 (one more says
-- there are more); the first pending id, its receipt time and the inbox's last id, to estimate
-- beyond that. Params: the most to count. Run after PENDING_PLAN (pendingInbox).
SELECT
  (SELECT count(*) FROM (SELECT 1 FROM alert_inbox WHERE processed_at IS NULL
     ORDER BY id LIMIT $1::bigint + 1) p)::bigint AS counted,
  first.id AS first_id, first.received_at AS oldest,
  (SELECT max(id) FROM alert_inbox) AS last_id
FROM (SELECT 1) one
LEFT JOIN LATERAL (SELECT id, received_at FROM alert_inbox WHERE processed_at IS NULL
  ORDER BY id LIMIT 1) first ON true`;

/**
 * How pendingInbox's statement is planned: through the pending index alone, whatever the
 * statistics say. Analyzed during a burst (most rows pending), the planner counted with a
 * parallel scan of the whole inbox, processed rows kept for retention included (0.3-0.6 s with
 * three processes on two cores, every few seconds in a bench:pipeline run whose correlator was
 * behind), a cost that grows with every day of alerts retention keeps. A plain index scan, not a
 * bitmap one: it skips the entries of rows correlated since the last vacuum once a scan has
 * marked them, as the correlator's reads of the same index do.
 */
export const PENDING_PLAN =
  'SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL max_parallel_workers_per_gather = 0';

/**
 * Pending alerts counted exactly up to this many; beyond, estimated. Counting through the index
 * costs a heap visit per pending row: 0.3-1.4 s for 118,000-150,000 pending in bench:pipeline,
 * asked by every dashboard poll while the correlator is furthest behind.
 */
export const PENDING_EXACT_UP_TO = 10_000;

/**
 * How many accepted alerts are not yet reflected in incidents (`exact` up to `exactUpTo`; beyond,
 * the inbox ids from the first pending one to the last: the correlator takes the inbox in id
 * order, so a backlog is that range less the few ids a rolled-back write skipped), and the first
 * pending alert's receipt time (in inbox order).
 */
export async function pendingInbox(
  pool: Pool,
  exactUpTo = PENDING_EXACT_UP_TO,
): Promise<{ pending: number; exact: boolean; oldest: string | null }> {
  const row = await withTransaction(pool, async (tx) => {
    await tx.query(PENDING_PLAN);
    const { rows } = await tx.query<{
      counted: string;
      first_id: string | null;
      last_id: string | null;
      oldest: string | null;
    }>(PENDING, [exactUpTo]);
    return rows[0]!;
  });
  const counted = Number(row.counted);
  if (counted <= exactUpTo) return { pending: counted, exact: true, oldest: row.oldest };
  const span = Number(row.last_id) - Number(row.first_id) + 1;
  return { pending: Math.max(counted, span), exact: false, oldest: row.oldest };
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
