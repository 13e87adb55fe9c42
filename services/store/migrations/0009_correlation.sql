-- The correlation engine's output: why each alert is where it is, each incident's ranked root
-- causes, signature, suspected change and known error; and the people's corrections it must obey.

-- One row per firing episode of a fingerprint (a fingerprint that fires again after it resolved
-- and its grace passed is a new episode, possibly in a new incident).
ALTER TABLE alerts DROP CONSTRAINT alerts_fingerprint_key;
ALTER TABLE alerts
  ADD COLUMN episode integer NOT NULL DEFAULT 1,
  -- The message with its variable parts masked: what text similarity compares.
  ADD COLUMN template text,
  -- Why the alert is in its incident: decision, score, hops and path, text similarity, time.
  ADD COLUMN explanation jsonb,
  ADD COLUMN flapping boolean NOT NULL DEFAULT false,
  -- Firing/resolved changes seen, for flapping.
  ADD COLUMN changes integer NOT NULL DEFAULT 0,
  -- Firing past its source's time to live without a re-send or a resolution: resolved by expiry.
  ADD COLUMN expired_at timestamptz,
  -- Put in its incident by a person (move, split): the correlator keeps it there.
  ADD COLUMN pinned boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX alerts_fingerprint_episode ON alerts (fingerprint, episode);

ALTER TABLE incidents
  -- Candidate root-cause CIs, best first: [{ ci, score, reason }].
  ADD COLUMN root_cause jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN root_cause_ci text,
  -- The dominant message template of its root-cause CI's alerts.
  ADD COLUMN template text,
  -- What recurs: root-cause CI class and CI, and template; candidate problems group by it.
  ADD COLUMN signature text,
  -- How many CIs alert in it (its blast radius).
  ADD COLUMN blast_radius integer NOT NULL DEFAULT 0,
  ADD COLUMN known_error_id bigint REFERENCES known_errors (id),
  ADD COLUMN workaround text,
  -- When its last alert resolved it resolves by itself at this time, unless one fires again.
  ADD COLUMN resolves_at timestamptz,
  -- Merged into another incident (by the correlator or a person); state 'canceled'.
  ADD COLUMN merged_into bigint REFERENCES incidents (id);
CREATE INDEX incidents_signature ON incidents (signature, opened_at) WHERE signature IS NOT NULL;
CREATE INDEX incidents_root_cause_ci ON incidents (root_cause_ci) WHERE root_cause_ci IS NOT NULL;

-- A person's corrections of the correlation (move an alert, merge incidents, split one), applied
-- to the database by the API at once and to the correlator's state in order of id.
CREATE TABLE correlation_overrides (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('move', 'merge', 'split')),
  -- move: { alertIds, incidentId }; merge: { incidentIds, into }; split: { alertIds, incidentId }
  -- (incidentId being the new incident the alerts went to).
  payload jsonb NOT NULL,
  actor text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  applied_at timestamptz
);
CREATE INDEX correlation_overrides_pending ON correlation_overrides (id) WHERE applied_at IS NULL;

-- Derived correlation fields change with every alert: not audited, like the counters.
DROP TRIGGER incidents_audit ON incidents;
CREATE TRIGGER incidents_audit AFTER INSERT OR UPDATE OR DELETE ON incidents
  FOR EACH ROW EXECUTE FUNCTION audit_changes('incident', 'alert_count', 'last_alert_at',
    'root_cause', 'blast_radius', 'resolves_at', 'template');
