import type { Pool } from './db.ts';

// Small batches, each its own transaction: the job never holds locks that ingest or the
// correlator would wait on for long.
const BATCH = 5000;

const PRUNE_ALERTS = `
-- Remove a batch of resolved alerts that ended and were last seen before the cutoff, and note
-- them for the search projection (which deletes what PostgreSQL no longer has).
-- Params: cutoff, batch size.
WITH gone AS (
  DELETE FROM alerts WHERE id IN (
    SELECT id FROM alerts WHERE status = 'resolved' AND ends_at < $1 AND last_received_at < $1
    ORDER BY ends_at LIMIT $2 FOR UPDATE SKIP LOCKED)
  RETURNING id
), noted AS (
  INSERT INTO search_outbox (record_type, record_id) SELECT 'alert', id FROM gone
)
SELECT count(*)::int AS n FROM gone`;

const PRUNE_INBOX = `
-- Remove a batch of inbox rows correlated (so received) before the cutoff.
-- Params: cutoff, batch size.
WITH gone AS (
  DELETE FROM alert_inbox WHERE id IN (
    SELECT id FROM alert_inbox WHERE processed_at < $1
    ORDER BY processed_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
  RETURNING 1
)
SELECT count(*)::int AS n FROM gone`;

const PRUNE_DELIVERIES = `
-- Remove a batch of raw deliveries received before the cutoff that no alert, inbox row or notice
-- still points at (no foreign key guards them: this check is the guard). Ids are handed out as
-- deliveries are received, so the oldest come first in id order. Params: cutoff, batch size.
WITH gone AS (
  DELETE FROM ingest_deliveries WHERE id IN (
    SELECT d.id FROM ingest_deliveries d
    WHERE d.received_at < $1
      AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.last_delivery_id = d.id)
      AND NOT EXISTS (SELECT 1 FROM alert_inbox i WHERE i.delivery_id = d.id)
      AND NOT EXISTS (SELECT 1 FROM ingest_notices n WHERE n.delivery_id = d.id)
    ORDER BY d.id LIMIT $2 FOR UPDATE SKIP LOCKED)
  RETURNING 1
)
SELECT count(*)::int AS n FROM gone`;

/** How many rows one retention run removed, by kind. */
export type Pruned = { alerts: number; inbox: number; deliveries: number };

async function drain(pool: Pool, sql: string, cutoff: string): Promise<number> {
  let total = 0;
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(sql, [cutoff, BATCH]);
    const n = rows[0]?.n ?? 0;
    total += n;
    if (n < BATCH) return total;
  }
}

/**
 * Removes what is older than the cutoff: resolved alerts last seen before it, correlated inbox
 * rows, then the raw deliveries nothing points at any more. Firing alerts are never removed.
 */
export async function pruneBefore(pool: Pool, cutoff: Date): Promise<Pruned> {
  const at = cutoff.toISOString();
  const alerts = await drain(pool, PRUNE_ALERTS, at);
  const inbox = await drain(pool, PRUNE_INBOX, at);
  const deliveries = await drain(pool, PRUNE_DELIVERIES, at);
  return { alerts, inbox, deliveries };
}
