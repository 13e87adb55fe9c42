import type { Queryable } from './db.ts';

const MARK_PROCESSED = `
-- Mark inbox rows correlated. Params: ids.
UPDATE alert_inbox SET processed_at = now() WHERE id = ANY($1::bigint[])`;

/** Marks rows correlated, in the transaction that stored their effects. */
export async function markProcessed(q: Queryable, ids: string[]): Promise<void> {
  await q.query(MARK_PROCESSED, [ids]);
}

const PENDING = `
-- Count accepted alerts not yet correlated. Params: none.
SELECT count(*)::bigint AS pending, min(received_at) AS oldest FROM alert_inbox
WHERE processed_at IS NULL`;

/** How many accepted alerts are not yet reflected in incidents, and since when. */
export async function pendingInbox(
  q: Queryable,
): Promise<{ pending: number; oldest: string | null }> {
  const { rows } = await q.query<{ pending: string; oldest: string | null }>(PENDING);
  return { pending: Number(rows[0]?.pending ?? 0), oldest: rows[0]?.oldest ?? null };
}

const STALE = `
-- Unprocessed inbox rows older than a grace period: their job was lost. Params: age ms, limit.
SELECT id FROM alert_inbox
WHERE processed_at IS NULL AND received_at < now() - make_interval(secs => $1::double precision / 1000)
ORDER BY id LIMIT $2`;

/** Ids of accepted alerts still waiting after `olderThanMs`: their queue job was lost. */
export async function staleInbox(
  q: Queryable,
  olderThanMs: number,
  limit: number,
): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(STALE, [olderThanMs, limit]);
  return rows.map((r) => r.id);
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
