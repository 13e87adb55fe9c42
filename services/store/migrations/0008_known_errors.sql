-- Known errors are written through the shared record API: their author is the transaction's
-- actor (set for the audit trail), and their symptoms are matched by text (no signature yet).
ALTER TABLE known_errors
  ALTER COLUMN created_by SET DEFAULT COALESCE(NULLIF(current_setting('tocsin.actor', true), ''),
    'system');
CREATE INDEX known_errors_problem ON known_errors (problem_id) WHERE problem_id IS NOT NULL;
