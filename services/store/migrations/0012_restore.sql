-- What a correlator that takes the lease needs to restore the engine as one that never stopped
-- would stand (correlator/live.ts): each alert's flap history, and where event time stood.

-- Event times of an alert's latest firing/resolved changes (at most the engine's flapChanges):
-- an alert flapping, or about to, keeps flapping across a restore. It changes only with the
-- status, which a re-send's touch never changes: the touch (count and last-received time) writes
-- nothing more and stays heap-only.
ALTER TABLE alerts ADD COLUMN recent_changes timestamptz[] NOT NULL DEFAULT '{}';

-- One row: the latest event time the engine had seen when it wrote its last batch. Timers run on
-- event time behind it (the watermark), so a restore from the wall clock or from the incidents'
-- last alerts would run them early or late.
CREATE TABLE correlator_state (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  latest_event_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Until the correlator writes a batch: the latest last alert of the stored incidents.
INSERT INTO correlator_state (latest_event_at) SELECT max(last_alert_at) FROM incidents;
