-- Retention: the indexes that let the retention job find old rows, and check references to a
-- delivery before removing it, without scanning the tables.
CREATE INDEX alerts_resolved_age ON alerts (last_received_at) WHERE status = 'resolved';
CREATE INDEX alerts_last_delivery ON alerts (last_delivery_id);
CREATE INDEX alert_inbox_processed_age ON alert_inbox (received_at) WHERE processed_at IS NOT NULL;
CREATE INDEX alert_inbox_delivery_all ON alert_inbox (delivery_id);
CREATE INDEX ingest_deliveries_age ON ingest_deliveries (received_at);
