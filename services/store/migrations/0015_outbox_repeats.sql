-- The search projection claims its oldest outbox rows, then every other row of the same records
-- (an incident changes with every correlation batch during a storm; one write covers them all).
-- That second claim joined on (record_type, record_id) with nothing to look those up by: a scan
-- of the whole outbox, dead rows included, at every drain. Sampled during bench:pipeline it was
-- the busiest statement left; an index answers it per record.
CREATE INDEX search_outbox_record ON search_outbox (record_type, record_id);
