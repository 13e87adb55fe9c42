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
-- Remove raw deliveries received before the cutoff that no inbox row, alert or notice points at
-- (no foreign key guards them: this check is the guard), one id range at a time: the next
-- deliveries by id after the last range. Ids are handed out as deliveries are received, so the
-- references to a range are found among inbox rows of the same age (alert_inbox_delivery_range)
-- and in one pass over alerts, never per delivery.
-- Params: cutoff, last id of the previous range, range size.
WITH batch AS MATERIALIZED (
  SELECT id, received_at FROM ingest_deliveries WHERE id > $2 ORDER BY id LIMIT $3
),
bounds AS (SELECT min(id) AS lo, max(id) AS hi FROM batch),
referenced AS (
  SELECT i.delivery_id AS id FROM alert_inbox i, bounds
  WHERE i.delivery_id BETWEEN bounds.lo AND bounds.hi
  UNION
  SELECT a.last_delivery_id FROM alerts a, bounds
  WHERE a.last_delivery_id BETWEEN bounds.lo AND bounds.hi
  UNION
  SELECT n.delivery_id FROM ingest_notices n, bounds
  WHERE n.delivery_id BETWEEN bounds.lo AND bounds.hi
),
gone AS (
  DELETE FROM ingest_deliveries d
  WHERE d.id IN (
    SELECT b.id FROM batch b WHERE b.received_at < $1
    AND NOT EXISTS (SELECT 1 FROM referenced r WHERE r.id = b.id))
  RETURNING 1
)
SELECT (SELECT count(*) FROM gone)::int AS n, (SELECT count(*) FROM batch)::int AS examined,
  (SELECT max(id) FROM batch) AS last,
  coalesce((SELECT bool_or(received_at >= $1) FROM batch), true) AS reached`;

/** Removes old raw deliveries nothing points at, range by range, up to the first recent one. */
async function pruneDeliveries(pool: Pool, cutoff: string, range: number): Promise<number> {
  let total = 0;
  let after = '0';
  for (;;) {
    const { rows } = await pool.query<{
      n: number;
      examined: number;
      last: string | null;
      reached: boolean;
    }>(PRUNE_DELIVERIES, [cutoff, after, range]);
    const row = rows[0]!;
    total += row.n;
    // Done at the first range holding a delivery received after the cutoff (the rest are newer).
    if (row.reached || row.examined < range || row.last === null) return total;
    after = row.last;
  }
}

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
 * rows, then the raw deliveries nothing points at any more (examined `deliveryRange` at a time).
 * Firing alerts are never removed.
 */
export async function pruneBefore(
  pool: Pool,
  cutoff: Date,
  deliveryRange = BATCH,
): Promise<Pruned> {
  const at = cutoff.toISOString();
  const alerts = await drain(pool, PRUNE_ALERTS, at);
  const inbox = await drain(pool, PRUNE_INBOX, at);
  const deliveries = await pruneDeliveries(pool, at, deliveryRange);
  return { alerts, inbox, deliveries };
}
