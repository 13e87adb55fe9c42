-- Why the correlator linked a suspected change or a known error to an incident, in its words:
-- { suspectedChange: "CHG… implemented on db-ledger, the root-cause CI, 14 min before…",
--   knownError: "KE… matches … (0.82)" }.
ALTER TABLE incidents ADD COLUMN correlation_notes jsonb NOT NULL DEFAULT '{}';

DROP TRIGGER incidents_audit ON incidents;
CREATE TRIGGER incidents_audit AFTER INSERT OR UPDATE OR DELETE ON incidents
  FOR EACH ROW EXECUTE FUNCTION audit_changes('incident', 'alert_count', 'last_alert_at',
    'root_cause', 'blast_radius', 'resolves_at', 'template', 'correlation_notes');
