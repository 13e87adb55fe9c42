-- Ingest's write path: every accepted alert is one raw-delivery row and one inbox row, written
-- in one statement and committed before the 202. Each index and foreign key on those rows is
-- work on every alert; keep only what a reader needs.

-- The inbox row and its delivery are written by the same statement, and retention deletes a
-- delivery only when no inbox row or alert points at it (services/store/retention.ts), so these
-- foreign keys checked what the writers already guarantee, at one index probe per inserted inbox
-- row and per alert update that moves its last delivery, and one lookup of every referencing
-- table per deleted delivery (alerts has no index on last_delivery_id, so that was a scan).
ALTER TABLE alert_inbox DROP CONSTRAINT IF EXISTS alert_inbox_delivery_id_fkey;
ALTER TABLE alerts DROP CONSTRAINT IF EXISTS alerts_last_delivery_id_fkey;
-- Only retention read these: it now walks deliveries in id order (ids are handed out as
-- deliveries are received) and finds inbox rows still pointing at a delivery by a hash anti-join.
DROP INDEX IF EXISTS alert_inbox_delivery_all;
DROP INDEX IF EXISTS ingest_deliveries_age;
-- Most deliveries carry no idempotency key (only those with an Idempotency-Key header or a tool's
-- own delivery id do): they need no entry in the unique index.
DROP INDEX IF EXISTS ingest_deliveries_idempotency;
CREATE UNIQUE INDEX ingest_deliveries_idempotency ON ingest_deliveries (source, idempotency_key)
  WHERE idempotency_key IS NOT NULL;

-- Retention asks which inbox rows point at a range of old deliveries. Inbox rows are written in
-- the order of their deliveries, so a block-range index answers that from the few pages of that
-- age, and costs next to nothing to keep up (a new row lands in a range not yet summarized).
CREATE INDEX alert_inbox_delivery_range ON alert_inbox USING brin (delivery_id);
