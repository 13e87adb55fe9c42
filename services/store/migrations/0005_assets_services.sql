-- Assets (the things the organisation owns, from order to retirement) and services (what it
-- runs for its users and for itself); every change to either is in the audit trail.

-- CIs are referenced by name, as in the tickets: an asset or a service may be recorded before the
-- CMDB import that brings its CI, so these are names, not foreign keys.
CREATE TABLE assets (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tag text NOT NULL UNIQUE,
  serial text,
  model text NOT NULL,
  manufacturer text,
  ci_name text,
  state text NOT NULL DEFAULT 'on_order'
    CHECK (state IN ('on_order', 'in_stock', 'in_use', 'in_maintenance', 'retired')),
  owner text,
  location text,
  cost numeric(14, 2) CHECK (cost >= 0),
  currency text CHECK (currency ~ '^[A-Z]{3}$'),
  purchased_at date,
  warranty_end date,
  version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- An amount without its currency means nothing.
  CONSTRAINT assets_cost_currency CHECK (cost IS NULL OR currency IS NOT NULL),
  CONSTRAINT assets_warranty_after_purchase
    CHECK (warranty_end IS NULL OR purchased_at IS NULL OR warranty_end >= purchased_at)
);
CREATE INDEX assets_state ON assets (state);
CREATE INDEX assets_ci_name ON assets (ci_name) WHERE ci_name IS NOT NULL;
CREATE INDEX assets_warranty_end ON assets (warranty_end) WHERE warranty_end IS NOT NULL;
CREATE TRIGGER assets_audit AFTER INSERT OR UPDATE OR DELETE ON assets
  FOR EACH ROW EXECUTE FUNCTION audit_changes('asset');

-- Business services (what users buy or use) and technical services (what other services run
-- on). Criticality: 1 most critical … 4 least, as ticket priorities count.
CREATE TABLE services (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  kind text NOT NULL CHECK (kind IN ('business', 'technical')),
  owner text,
  description text,
  entry_point_cis text[] NOT NULL DEFAULT '{}',
  criticality smallint NOT NULL DEFAULT 3 CHECK (criticality BETWEEN 1 AND 4),
  -- A placeholder until SLAs are records of their own: the names of the SLAs that apply. The SLA
  -- migration will turn these into references.
  sla_names text[] NOT NULL DEFAULT '{}',
  version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX services_entry_point_cis ON services USING gin (entry_point_cis);
CREATE TRIGGER services_audit AFTER INSERT OR UPDATE OR DELETE ON services
  FOR EACH ROW EXECUTE FUNCTION audit_changes('service');
