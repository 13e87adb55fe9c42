import type { Alert } from '../../correlator/alert.ts';
import type { Queryable } from './db.ts';
import { stripNul, toJsonb } from './jsonb.ts';

/** A webhook delivery to store with its alerts (or notice) in the inbox. */
export type DeliveryInput = {
  source: string;
  tokenId: string | null;
  idempotencyKey: string | null;
  contentType: string;
  body: string;
  alerts: Alert[];
  notice: { kind: string; summary: string; details: Record<string, string> } | null;
};

/** What became of one delivery: stored, or a duplicate of one stored before. */
export type DeliveryResult = {
  deliveryId: string;
  stored: boolean;
  /** Alerts the delivery carried; for a duplicate, those of the delivery stored first. */
  alertCount: number;
};

const ACCEPT = `
-- Group commit of webhook deliveries: each delivery row, its alerts as inbox rows and its notice,
-- all in one statement (one commit). A delivery whose idempotency key was seen is skipped.
-- Params: the deliveries as one jsonb array of {source, tokenId, idempotencyKey, contentType,
--         body, alerts, notice} (one parameter: no per-element array escaping in the driver).
-- The id sequence is looked up once per statement (an InitPlan): as nextval's argument it was
-- looked up by name in the catalogs for every delivery.
WITH input AS MATERIALIZED (
  SELECT nextval((SELECT pg_get_serial_sequence('ingest_deliveries', 'id')::regclass)) AS id,
    t.ord,
    t.d ->> 'source' AS source, (t.d ->> 'tokenId')::bigint AS token_id,
    t.d ->> 'idempotencyKey' AS idempotency_key, t.d ->> 'contentType' AS content_type,
    t.d ->> 'body' AS body, jsonb_array_length(t.d -> 'alerts') AS alert_count,
    t.d -> 'alerts' AS alerts, NULLIF(t.d -> 'notice', 'null'::jsonb) AS notice
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(d, ord)
),
delivered AS (
  INSERT INTO ingest_deliveries (id, source, token_id, idempotency_key, content_type, body,
    alert_count)
  SELECT id, source, token_id, idempotency_key, content_type, body, alert_count
  FROM input ORDER BY ord
  ON CONFLICT (source, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING id
),
inboxed AS (
  INSERT INTO alert_inbox (delivery_id, source, alert)
  SELECT i.id, i.source, a.alert
  FROM input i JOIN delivered d ON d.id = i.id
  CROSS JOIN LATERAL jsonb_array_elements(i.alerts) WITH ORDINALITY AS a(alert, n)
  ORDER BY i.ord, a.n
  RETURNING 1
),
noticed AS (
  INSERT INTO ingest_notices (delivery_id, source, kind, summary, details)
  SELECT i.id, i.source, i.notice->>'kind', i.notice->>'summary', i.notice->'details'
  FROM input i JOIN delivered d ON d.id = i.id
  WHERE i.notice IS NOT NULL
  RETURNING 1
)
SELECT i.id, d.id IS NOT NULL AS stored, i.alert_count
FROM input i LEFT JOIN delivered d ON d.id = i.id
ORDER BY i.ord`;

const PRIOR = `
-- The deliveries stored first under idempotency keys seen again. Params: sources, keys.
SELECT d.source, d.idempotency_key, d.id, d.alert_count
FROM unnest($1::text[], $2::text[]) AS k(source, idempotency_key)
JOIN ingest_deliveries d ON d.source = k.source AND d.idempotency_key = k.idempotency_key`;

/**
 * Stores deliveries durably, many in one statement: the caller answers 202 only after this
 * returns. Results come in the order of the input; a delivery whose idempotency key was stored
 * before is answered with the first delivery's id and alert count.
 *
 * The statement is prepared once per connection (named): it is the same text for every batch,
 * and planning its five parts cost about as much as running them for a small batch.
 */
export async function acceptDeliveries(
  q: Queryable,
  deliveries: readonly DeliveryInput[],
): Promise<DeliveryResult[]> {
  // Each key as jsonb stores it (U+0000 and lone surrogates as U+FFFD), for the insert and the
  // lookup alike: a raw key with U+0000 in the lookup's text[] failed it with a 500.
  const keys = deliveries.map((d) =>
    d.idempotencyKey === null ? null : stripNul(d.idempotencyKey).toWellFormed(),
  );
  const batch = deliveries.map((d, i) => ({
    source: d.source,
    tokenId: d.tokenId,
    idempotencyKey: keys[i],
    contentType: d.contentType,
    // The raw body is text decoded from UTF-8 (no lone surrogates); only NUL needs replacing.
    body: stripNul(d.body),
    alerts: d.alerts,
    notice: d.notice,
  }));
  const { rows } = await q.query<{ id: string; stored: boolean; alert_count: number }>({
    name: 'tocsin-accept-deliveries',
    text: ACCEPT,
    values: [toJsonb(batch)],
  });
  const results = rows.map((r) => ({
    deliveryId: r.id,
    stored: r.stored,
    alertCount: r.alert_count,
  }));
  const repeated = deliveries.flatMap((d, i) => {
    const key = keys[i];
    return results[i]!.stored || key === null || key === undefined
      ? []
      : [{ source: d.source, key }];
  });
  if (repeated.length === 0) return results;
  // Seen before: answer with the first delivery (written by an earlier, committed statement or
  // by a concurrent one this statement waited for).
  const prior = await q.query<{
    source: string;
    idempotency_key: string;
    id: string;
    alert_count: number;
  }>(PRIOR, [repeated.map((d) => d.source), repeated.map((d) => d.key)]);
  const first = new Map(prior.rows.map((r) => [`${r.source}\n${r.idempotency_key}`, r]));
  return results.map((r, i) => {
    const key = keys[i];
    if (r.stored || key === null || key === undefined) return r;
    const seen = first.get(`${deliveries[i]!.source}\n${key}`);
    return seen === undefined
      ? r
      : { deliveryId: seen.id, stored: false, alertCount: seen.alert_count };
  });
}

/** The raw body of a delivery and its media type, for showing an alert's original payload. */
export async function getDeliveryBody(
  q: Queryable,
  id: string,
): Promise<{ contentType: string; body: string; receivedAt: string } | null> {
  const { rows } = await q.query<{ content_type: string; body: string; received_at: string }>(
    `-- A delivery's raw body. Params: id.
SELECT content_type, body, received_at FROM ingest_deliveries WHERE id = $1`,
    [id],
  );
  const row = rows[0];
  return row
    ? { contentType: row.content_type, body: row.body, receivedAt: row.received_at }
    : null;
}
