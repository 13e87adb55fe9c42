-- The ticket records: incidents grow the shared ticket base; problems, known errors and changes
-- join them; work notes and comments; the audit trail of every record; people and their roles.

-- Who did it: each transaction that changes records sets tocsin.actor (and tocsin.action for a
-- state transition) with set_config(..., true); the audit trigger reads them.
CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  record_type text NOT NULL,
  record_id bigint NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  operation text NOT NULL CHECK (operation IN ('insert', 'update', 'delete')),
  action text,
  field text NOT NULL,
  old_value jsonb,
  new_value jsonb
);
CREATE INDEX audit_log_record ON audit_log (record_type, record_id, id);

-- Writes the audit trail of a row: on insert and delete one entry (field "*") holding the row, on
-- update one entry per changed field. Params (trigger arguments): the record type, then the
-- columns not to audit (derived counters that change with every alert).
CREATE FUNCTION audit_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  skipped text[] := TG_ARGV[1:] || ARRAY['id', 'version', 'updated_at', 'created_at'];
  old_row jsonb := CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) - skipped END;
  new_row jsonb := CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) - skipped END;
  actor text := COALESCE(NULLIF(current_setting('tocsin.actor', true), ''), 'system');
  action text := NULLIF(current_setting('tocsin.action', true), '');
  record_id bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
BEGIN
  IF TG_OP <> 'UPDATE' THEN
    INSERT INTO audit_log (record_type, record_id, actor, operation, action, field, old_value,
      new_value)
    VALUES (TG_ARGV[0], record_id, actor, lower(TG_OP), action, '*', old_row, new_row);
  ELSE
    INSERT INTO audit_log (record_type, record_id, actor, operation, action, field, old_value,
      new_value)
    SELECT TG_ARGV[0], record_id, actor, 'update', action, k, old_row -> k, new_row -> k
    FROM jsonb_object_keys(new_row) AS k
    WHERE (old_row -> k) IS DISTINCT FROM (new_row -> k);
  END IF;
  RETURN NULL;
END $$;

-- Incidents: the ticket base (impact × urgency → priority, assignment, resolution…) and their own
-- fields (channel, parent, major, problem, suspected change).
ALTER TABLE incidents
  ADD COLUMN description text,
  ADD COLUMN impact smallint NOT NULL DEFAULT 2 CHECK (impact BETWEEN 1 AND 3),
  ADD COLUMN urgency smallint NOT NULL DEFAULT 2 CHECK (urgency BETWEEN 1 AND 3),
  ADD COLUMN category text,
  ADD COLUMN service text,
  ADD COLUMN primary_ci text,
  ADD COLUMN assignment_group text,
  ADD COLUMN assignee text,
  ADD COLUMN acknowledged_at timestamptz,
  ADD COLUMN closed_at timestamptz,
  ADD COLUMN hold_reason text,
  ADD COLUMN resolution_code text,
  ADD COLUMN resolution_notes text,
  ADD COLUMN reopen_count integer NOT NULL DEFAULT 0,
  ADD COLUMN channel text NOT NULL DEFAULT 'monitoring'
    CHECK (channel IN ('monitoring', 'phone', 'email', 'self_service')),
  ADD COLUMN parent_id bigint REFERENCES incidents (id),
  ADD COLUMN major boolean NOT NULL DEFAULT false,
  ADD COLUMN created_by text NOT NULL DEFAULT 'correlator';
CREATE TRIGGER incidents_audit AFTER INSERT OR UPDATE OR DELETE ON incidents
  FOR EACH ROW EXECUTE FUNCTION audit_changes('incident', 'alert_count', 'last_alert_at');

CREATE SEQUENCE problem_number_seq START 1001;
CREATE TABLE problems (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  number text NOT NULL UNIQUE
    DEFAULT ('PRB' || lpad(nextval('problem_number_seq')::text, 7, '0')),
  title text NOT NULL,
  description text,
  state text NOT NULL DEFAULT 'new' CHECK (state IN ('candidate', 'new', 'assess',
    'root_cause_analysis', 'fix_in_progress', 'resolved', 'closed', 'rejected', 'canceled')),
  impact smallint NOT NULL DEFAULT 2 CHECK (impact BETWEEN 1 AND 3),
  urgency smallint NOT NULL DEFAULT 2 CHECK (urgency BETWEEN 1 AND 3),
  priority smallint NOT NULL CHECK (priority BETWEEN 1 AND 5),
  category text,
  service text,
  primary_ci text,
  cis text[] NOT NULL DEFAULT '{}',
  assignment_group text,
  assignee text,
  opened_at timestamptz NOT NULL DEFAULT now(),
  acknowledged_at timestamptz,
  resolved_at timestamptz,
  closed_at timestamptz,
  resolution_code text,
  resolution_notes text,
  reopen_count integer NOT NULL DEFAULT 0,
  cause text,
  workaround text,
  fix text,
  -- A candidate's pattern: the correlator proposes a signature once; a rejected one stays here so
  -- that it is never proposed again.
  signature text UNIQUE,
  evidence jsonb,
  created_by text NOT NULL,
  version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX problems_state ON problems (state);
CREATE TRIGGER problems_audit AFTER INSERT OR UPDATE OR DELETE ON problems
  FOR EACH ROW EXECUTE FUNCTION audit_changes('problem', 'evidence');

ALTER TABLE incidents ADD COLUMN problem_id bigint REFERENCES problems (id);
CREATE INDEX incidents_problem ON incidents (problem_id) WHERE problem_id IS NOT NULL;

-- Known errors: a symptom with its workaround, for a CI class or service, often from a problem.
CREATE SEQUENCE known_error_number_seq START 1001;
CREATE TABLE known_errors (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  number text NOT NULL UNIQUE
    DEFAULT ('KE' || lpad(nextval('known_error_number_seq')::text, 7, '0')),
  problem_id bigint REFERENCES problems (id),
  title text NOT NULL,
  symptom text NOT NULL,
  workaround text NOT NULL,
  ci_class text,
  service text,
  state text NOT NULL DEFAULT 'published' CHECK (state IN ('draft', 'published', 'retired')),
  created_by text NOT NULL,
  version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER known_errors_audit AFTER INSERT OR UPDATE OR DELETE ON known_errors
  FOR EACH ROW EXECUTE FUNCTION audit_changes('known_error');

CREATE SEQUENCE change_number_seq START 1001;
CREATE TABLE changes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  number text NOT NULL UNIQUE
    DEFAULT ('CHG' || lpad(nextval('change_number_seq')::text, 7, '0')),
  type text NOT NULL CHECK (type IN ('standard', 'normal', 'emergency')),
  title text NOT NULL,
  description text,
  state text NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'assess', 'authorize', 'scheduled',
    'implement', 'review', 'closed', 'canceled')),
  impact smallint NOT NULL DEFAULT 2 CHECK (impact BETWEEN 1 AND 3),
  urgency smallint NOT NULL DEFAULT 2 CHECK (urgency BETWEEN 1 AND 3),
  priority smallint NOT NULL CHECK (priority BETWEEN 1 AND 5),
  category text,
  service text,
  primary_ci text,
  cis text[] NOT NULL DEFAULT '{}',
  assignment_group text,
  assignee text,
  risk text NOT NULL DEFAULT 'moderate' CHECK (risk IN ('low', 'moderate', 'high', 'very_high')),
  planned_start timestamptz,
  planned_end timestamptz,
  actual_start timestamptz,
  actual_end timestamptz,
  implementation_plan text,
  backout_plan text,
  test_plan text,
  required_approvals smallint NOT NULL DEFAULT 1 CHECK (required_approvals BETWEEN 0 AND 10),
  opened_at timestamptz NOT NULL DEFAULT now(),
  acknowledged_at timestamptz,
  resolved_at timestamptz,
  closed_at timestamptz,
  resolution_code text,
  resolution_notes text,
  reopen_count integer NOT NULL DEFAULT 0,
  created_by text NOT NULL,
  version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (planned_end IS NULL OR planned_start IS NULL OR planned_end > planned_start)
);
CREATE INDEX changes_cis ON changes USING gin (cis);
CREATE INDEX changes_window ON changes (actual_start, planned_start);
CREATE TRIGGER changes_audit AFTER INSERT OR UPDATE OR DELETE ON changes
  FOR EACH ROW EXECUTE FUNCTION audit_changes('change');

ALTER TABLE incidents ADD COLUMN suspected_change_id bigint REFERENCES changes (id);

-- Approvals of a change by change managers: one decision per approver.
CREATE TABLE change_approvals (
  change_id bigint NOT NULL REFERENCES changes (id) ON DELETE CASCADE,
  approver text NOT NULL,
  decision text NOT NULL CHECK (decision IN ('approved', 'rejected')),
  comment text,
  decided_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (change_id, approver)
);

-- Work notes (internal) and comments (for the requester) on any ticket; append-only.
CREATE TABLE ticket_journal (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  record_type text NOT NULL CHECK (record_type IN ('incident', 'problem', 'change')),
  record_id bigint NOT NULL,
  kind text NOT NULL CHECK (kind IN ('work_note', 'comment')),
  author text NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_journal_record ON ticket_journal (record_type, record_id, id);

-- People: users and groups hold roles; a user's API tokens act with the user's roles and those of
-- the user's groups.
CREATE TABLE groups (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  description text,
  roles text[] NOT NULL DEFAULT '{}',
  version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER groups_audit AFTER INSERT OR UPDATE OR DELETE ON groups
  FOR EACH ROW EXECUTE FUNCTION audit_changes('group');

CREATE TABLE users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username text NOT NULL UNIQUE,
  display_name text,
  email text,
  roles text[] NOT NULL DEFAULT '{}',
  groups text[] NOT NULL DEFAULT '{}',
  active boolean NOT NULL DEFAULT true,
  version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER users_audit AFTER INSERT OR UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION audit_changes('user');

CREATE TABLE user_tokens (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name text NOT NULL,
  token_hash bytea NOT NULL UNIQUE,
  token_prefix text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  last_used_at timestamptz
);

CREATE TRIGGER configuration_items_audit AFTER INSERT OR UPDATE OR DELETE ON configuration_items
  FOR EACH ROW EXECUTE FUNCTION audit_changes('ci');
