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
