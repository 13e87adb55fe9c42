-- A webhook delivery's raw body is kept byte for byte; an Alertmanager group of 50 alerts is about
-- 20 kB, so PostgreSQL compresses it out of line (TOAST). Its default compression, pglz, cost about
-- 120-150 µs of the server's CPU per such body (5,000 inserts of a 20 kB body: 606 and 773 ms),
-- lz4 about 17 µs (85 and 82 ms), for a table about a fifth larger. Only new rows are compressed
-- with it; a PostgreSQL built without lz4 keeps pglz.
DO $$
BEGIN
  ALTER TABLE ingest_deliveries ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'PostgreSQL has no lz4: delivery bodies stay compressed with pglz';
END $$;
