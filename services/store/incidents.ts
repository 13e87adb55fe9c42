import type { Severity } from '../../correlator/alert.ts';
import type { Queryable } from './db.ts';
import { decodeCursor, toPage, type Page } from './page.ts';

/** Incident states. */
export const incidentStates = [
  'new',
  'in_progress',
  'on_hold',
  'resolved',
  'closed',
  'canceled',
] as const;
/** One incident state. */
export type IncidentState = (typeof incidentStates)[number];

/** An incident as stored and served. */
export type IncidentRecord = {
  id: string;
  number: string;
  title: string;
  state: IncidentState;
  severity: Severity;
  impact: number;
  urgency: number;
  priority: number;
  openedAt: string;
  resolvedAt: string | null;
  lastAlertAt: string;
  alertCount: number;
  cis: string[];
  updatedAt: string;
  version: number;
};

type IncidentRow = {
  id: string;
  number: string;
  title: string;
  state: IncidentState;
  severity: Severity;
  impact: number;
  urgency: number;
  priority: number;
  opened_at: string;
  resolved_at: string | null;
  last_alert_at: string;
  alert_count: number;
  cis: string[];
  updated_at: string;
  version: string;
};

const COLUMNS = `id, number, title, state, severity, impact, urgency, priority, opened_at, resolved_at,
  last_alert_at, alert_count, cis, updated_at, version`;

function toIncident(r: IncidentRow): IncidentRecord {
  return {
    id: r.id,
    number: r.number,
    title: r.title,
    state: r.state,
    severity: r.severity,
    impact: r.impact,
    urgency: r.urgency,
    priority: r.priority,
    openedAt: r.opened_at,
    resolvedAt: r.resolved_at,
    lastAlertAt: r.last_alert_at,
    alertCount: r.alert_count,
    cis: r.cis,
    updatedAt: r.updated_at,
    version: Number(r.version),
  };
}

/** Reads one incident by id. */
export async function getIncident(q: Queryable, id: string): Promise<IncidentRecord | null> {
  const { rows } = await q.query<IncidentRow>(
    `-- One incident. Params: id.\nSELECT ${COLUMNS} FROM incidents WHERE id = $1`,
    [id],
  );
  return rows[0] ? toIncident(rows[0]) : null;
}

/** Lists incidents, newest first, optionally in some states. */
export async function listIncidents(
  q: Queryable,
  filter: { states?: IncidentState[] | undefined },
  limit: number,
  cursor: string | null,
): Promise<Page<IncidentRecord>> {
  const after = cursor === null ? null : String(decodeCursor(cursor));
  const { rows } = await q.query<IncidentRow>(
    `-- A page of incidents, newest first. Params: states, after id, limit.
SELECT ${COLUMNS} FROM incidents
WHERE ($1::text[] IS NULL OR state = ANY($1))
  AND ($2::bigint IS NULL OR id < $2)
ORDER BY id DESC LIMIT $3`,
    [filter.states ?? null, after, limit + 1],
  );
  return toPage(rows, limit, toIncident, (r) => r.id);
}

/** The open incident on a CI whose last alert is at or after `since`, locked; else null. */
export async function lockOpenIncidentOnCi(
  q: Queryable,
  ci: string,
  since: string,
): Promise<IncidentRecord | null> {
  const { rows } = await q.query<IncidentRow>(
    `-- The most recent open incident on a CI still inside the window. Params: ci, since.
SELECT ${COLUMNS} FROM incidents
WHERE cis @> ARRAY[$1]::text[] AND state IN ('new', 'in_progress', 'on_hold')
  AND last_alert_at >= $2
ORDER BY last_alert_at DESC LIMIT 1
FOR UPDATE`,
    [ci, since],
  );
  return rows[0] ? toIncident(rows[0]) : null;
}

/** Opens an incident. */
export async function insertIncident(
  q: Queryable,
  incident: Pick<
    IncidentRecord,
    'title' | 'severity' | 'urgency' | 'priority' | 'openedAt' | 'cis'
  >,
): Promise<IncidentRecord> {
  const { rows } = await q.query<IncidentRow>(
    `-- Open an incident. Params: title, severity, urgency, priority, opened at, cis.
INSERT INTO incidents (title, severity, urgency, priority, opened_at, last_alert_at, cis)
VALUES ($1, $2, $3, $4, $5, $5, $6)
RETURNING ${COLUMNS}`,
    [
      incident.title,
      incident.severity,
      incident.urgency,
      incident.priority,
      incident.openedAt,
      incident.cis,
    ],
  );
  return toIncident(rows[0]!);
}

/** Writes an incident's derived fields back after its alerts changed. */
export async function updateIncident(
  q: Queryable,
  incident: Pick<
    IncidentRecord,
    'id' | 'state' | 'severity' | 'urgency' | 'priority' | 'lastAlertAt' | 'resolvedAt' | 'cis'
  >,
): Promise<void> {
  await q.query(
    `-- Store an incident's state derived from its alerts. Params: id, state, severity, priority,
-- last alert at, resolved at, cis, urgency.
UPDATE incidents SET state = $2, severity = $3, priority = $4, last_alert_at = $5,
  resolved_at = $6, cis = $7, urgency = $8,
  alert_count = (SELECT count(*) FROM alerts WHERE incident_id = $1),
  version = version + 1, updated_at = now()
WHERE id = $1`,
    [
      incident.id,
      incident.state,
      incident.severity,
      incident.priority,
      incident.lastAlertAt,
      incident.resolvedAt,
      incident.cis,
      incident.urgency,
    ],
  );
}

/** Summary of an incident's alerts: whether any still fires, and the worst severity firing. */
export async function incidentAlertSummary(
  q: Queryable,
  incidentId: string,
): Promise<{ firing: number; severities: Severity[] }> {
  const { rows } = await q.query<{ firing: string; severities: Severity[] | null }>(
    `-- Firing alerts of an incident and their severities. Params: incident id.
SELECT count(*) FILTER (WHERE status = 'firing') AS firing,
  array_agg(DISTINCT severity) FILTER (WHERE status = 'firing') AS severities
FROM alerts WHERE incident_id = $1`,
    [incidentId],
  );
  return { firing: Number(rows[0]?.firing ?? 0), severities: rows[0]?.severities ?? [] };
}
