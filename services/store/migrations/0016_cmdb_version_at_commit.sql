-- Migration 0014's statement triggers took the CMDB version row as soon as a statement wrote a CI
-- or a relationship, and held it until commit: a CMDB import (whose relationships then lock the
-- CIs they point at) and a person's edit of one of those CIs (which locks the CI first) could
-- deadlock on it. The version is now bumped as the writing transaction commits, by a deferred
-- constraint trigger, once per transaction: the row is held for the commit only, when the
-- transaction waits on nothing else.
DROP TRIGGER configuration_items_version ON configuration_items;
DROP TRIGGER ci_relationships_version ON ci_relationships;

CREATE OR REPLACE FUNCTION bump_cmdb_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Each row an import writes comes here at commit: the row is updated for the first only.
  IF current_setting('tocsin.cmdb_version_bumped', true) IS DISTINCT FROM txid_current()::text
  THEN
    UPDATE cmdb_version SET version = version + 1;
    PERFORM set_config('tocsin.cmdb_version_bumped', txid_current()::text, true);
  END IF;
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER configuration_items_version
  AFTER INSERT OR UPDATE OR DELETE ON configuration_items
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_cmdb_version();
CREATE CONSTRAINT TRIGGER ci_relationships_version
  AFTER INSERT OR UPDATE OR DELETE ON ci_relationships
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_cmdb_version();

-- A TRUNCATE has no row events; it locks the whole table anyway, so it bumps at once.
CREATE TRIGGER configuration_items_truncated AFTER TRUNCATE ON configuration_items
  FOR EACH STATEMENT EXECUTE FUNCTION bump_cmdb_version();
CREATE TRIGGER ci_relationships_truncated AFTER TRUNCATE ON ci_relationships
  FOR EACH STATEMENT EXECUTE FUNCTION bump_cmdb_version();
