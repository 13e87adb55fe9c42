-- Accepted alerts, durable before ingest answers 202; the correlator consumes them.
CREATE TABLE alert_inbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  received_at timestamptz NOT NULL DEFAULT now(),
  source text NOT NULL,
  alert jsonb NOT NULL,
  processed_at timestamptz
);
CREATE INDEX alert_inbox_pending ON alert_inbox (id) WHERE processed_at IS NULL;

CREATE SEQUENCE incident_number_seq START 1001;

CREATE TABLE incidents (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  number text NOT NULL UNIQUE
    DEFAULT ('INC' || lpad(nextval('incident_number_seq')::text, 7, '0')),
  title text NOT NULL,
  state text NOT NULL DEFAULT 'new'
    CHECK (state IN ('new', 'in_progress', 'on_hold', 'resolved', 'closed', 'canceled')),
  severity text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning', 'info')),
  priority smallint NOT NULL CHECK (priority BETWEEN 1 AND 5),
  opened_at timestamptz NOT NULL,
  resolved_at timestamptz,
  last_alert_at timestamptz NOT NULL,
  alert_count integer NOT NULL DEFAULT 0,
  cis text[] NOT NULL DEFAULT '{}',
  version bigint NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incidents_open_cis ON incidents USING gin (cis)
  WHERE state IN ('new', 'in_progress', 'on_hold');

CREATE TABLE alerts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  fingerprint text NOT NULL UNIQUE,
  incident_id bigint REFERENCES incidents (id),
  ci text,
  title text NOT NULL,
  description text,
  severity text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning', 'info')),
  status text NOT NULL CHECK (status IN ('firing', 'resolved')),
  source text NOT NULL,
  service text,
  labels jsonb NOT NULL DEFAULT '{}',
  starts_at timestamptz NOT NULL,
  ends_at timestamptz,
  first_received_at timestamptz NOT NULL,
  last_received_at timestamptz NOT NULL,
  count integer NOT NULL DEFAULT 1,
  version bigint NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_incident ON alerts (incident_id);
CREATE INDEX alerts_status ON alerts (status);

CREATE TABLE configuration_items (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  class text NOT NULL,
  attributes jsonb NOT NULL DEFAULT '{}',
  version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ci_relationships (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source_id bigint NOT NULL REFERENCES configuration_items (id) ON DELETE CASCADE,
  target_id bigint NOT NULL REFERENCES configuration_items (id) ON DELETE CASCADE,
  type text NOT NULL CHECK (type IN
    ('depends_on', 'runs_on', 'hosted_on', 'connected_to', 'member_of', 'contains', 'uses')),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_id, target_id, type)
);
CREATE INDEX ci_relationships_target ON ci_relationships (target_id);

-- Records changed in PostgreSQL and not yet projected to Elasticsearch; written in the same
-- transaction as the change, drained by the search.index job.
CREATE TABLE search_outbox (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  record_type text NOT NULL,
  record_id bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
