-- The correlator's write path: most deliveries are re-sends of firing alerts, which change an
-- alert's count, last-received time and delivery, often its text, rarely its state or incident.
-- None of those but state and incident is in an index, and alert pages keep free space, so such
-- an update is a heap-only (HOT) tuple: no index entry to write.

-- Retention finds old resolved alerts by when they ended (last_received_at is in no index now).
DROP INDEX alerts_resolved_age;
CREATE INDEX alerts_resolved_end ON alerts (ends_at) WHERE status = 'resolved';
UPDATE alerts SET ends_at = coalesce(expired_at, last_received_at)
  WHERE status = 'resolved' AND ends_at IS NULL;
ALTER TABLE alerts SET (fillfactor = 80);
-- Retention's check that no alert points at a raw delivery is one hash anti-join per batch.
DROP INDEX alerts_last_delivery;

-- Unused since the correlator reads the inbox in id order (alert_inbox_delivery_all serves
-- retention); one index fewer for every accepted alert to write.
DROP INDEX alert_inbox_delivery;
-- Retention finds old correlated inbox rows by when they were correlated (never before their
-- receipt), with the index the export reads in that order.
DROP INDEX alert_inbox_processed_age;
