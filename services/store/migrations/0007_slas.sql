-- SLAs: business calendars, SLA definitions that apply to incidents by priority and service, and
-- per-incident timers (one for the response, one for the resolution) with pauses and breaches.
CREATE TABLE business_calendars (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  timezone text NOT NULL,
  hours jsonb NOT NULL,
  holidays date[] NOT NULL DEFAULT '{}',
  version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER business_calendars_audit AFTER INSERT OR UPDATE OR DELETE ON business_calendars
  FOR EACH ROW EXECUTE FUNCTION audit_changes('calendar');

CREATE TABLE sla_definitions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  description text,
  -- Empty: every priority (or service).
  priorities smallint[] NOT NULL DEFAULT '{}',
  services text[] NOT NULL DEFAULT '{}',
  response_minutes integer NOT NULL CHECK (response_minutes > 0),
  resolution_minutes integer NOT NULL CHECK (resolution_minutes > 0),
  calendar_id bigint REFERENCES business_calendars (id),
  at_risk_share numeric(3, 2) NOT NULL DEFAULT 0.75 CHECK (at_risk_share > 0 AND at_risk_share < 1),
  active boolean NOT NULL DEFAULT true,
  version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER sla_definitions_audit AFTER INSERT OR UPDATE OR DELETE ON sla_definitions
  FOR EACH ROW EXECUTE FUNCTION audit_changes('sla');

CREATE TABLE sla_timers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sla_id bigint NOT NULL REFERENCES sla_definitions (id),
  incident_id bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('response', 'resolution')),
  target_seconds integer NOT NULL,
  elapsed_seconds double precision NOT NULL DEFAULT 0,
  accounted_at timestamptz NOT NULL,
  paused_since timestamptz,
  stopped_at timestamptz,
  -- As last read (on each transition and by the sweep), for lists, stats and alarms.
  breach_at timestamptz,
  breached boolean NOT NULL DEFAULT false,
  at_risk boolean NOT NULL DEFAULT false,
  read_at timestamptz NOT NULL,
  UNIQUE (incident_id, sla_id, kind)
);
CREATE INDEX sla_timers_live ON sla_timers (incident_id) WHERE stopped_at IS NULL;
