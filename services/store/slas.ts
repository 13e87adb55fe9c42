import type { BusinessCalendar } from './business-time.ts';
import type { Queryable } from './db.ts';
import { pause, read, restart, resume, stop, type SlaClock, type SlaReading } from './sla-clock.ts';

/** A business calendar as stored. */
export type Calendar = BusinessCalendar & { id: string; name: string; version: number };

/** An SLA definition: which incidents it applies to, its targets, its calendar. */
export type SlaDefinition = {
  id: string;
  name: string;
  description: string | null;
  priorities: number[];
  services: string[];
  responseMinutes: number;
  resolutionMinutes: number;
  calendarId: string | null;
  atRiskShare: number;
  active: boolean;
  version: number;
};

const CALENDAR_COLUMNS = `id, name, timezone, hours,
  ARRAY(SELECT to_char(h, 'YYYY-MM-DD') FROM unnest(holidays) AS h) AS holidays, version::int`;
const SLA_COLUMNS = `id, name, description, priorities::int[] AS priorities, services,
  response_minutes AS "responseMinutes", resolution_minutes AS "resolutionMinutes",
  calendar_id AS "calendarId", at_risk_share::float AS "atRiskShare", active, version::int`;

/** Creates a business calendar. */
export async function insertCalendar(
  q: Queryable,
  c: Omit<Calendar, 'id' | 'version'>,
): Promise<Calendar> {
  const { rows } = await q.query<Calendar>(
    `-- Create a business calendar. Params: name, time zone, hours, holidays.
INSERT INTO business_calendars (name, timezone, hours, holidays) VALUES ($1, $2, $3, $4::date[])
RETURNING ${CALENDAR_COLUMNS}`,
    [c.name, c.timezone, JSON.stringify(c.hours), c.holidays],
  );
  return rows[0]!;
}

/** Every business calendar, by name. */
export async function listCalendars(q: Queryable): Promise<Calendar[]> {
  const { rows } = await q.query<Calendar>(
    `-- Business calendars. Params: none.\nSELECT ${CALENDAR_COLUMNS} FROM business_calendars ORDER BY name`,
  );
  return rows;
}

/** Creates an SLA definition. */
export async function insertSla(
  q: Queryable,
  s: Omit<SlaDefinition, 'id' | 'version'>,
): Promise<SlaDefinition> {
  const { rows } = await q.query<SlaDefinition>(
    `-- Create an SLA definition. Params: its fields in order.
INSERT INTO sla_definitions (name, description, priorities, services, response_minutes,
  resolution_minutes, calendar_id, at_risk_share, active)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING ${SLA_COLUMNS}`,
    [
      s.name,
      s.description,
      s.priorities,
      s.services,
      s.responseMinutes,
      s.resolutionMinutes,
      s.calendarId,
      s.atRiskShare,
      s.active,
    ],
  );
  return rows[0]!;
}

/** Reads an SLA definition; `lock` holds it for the caller's transaction. */
export async function getSla(
  q: Queryable,
  id: string,
  lock = false,
): Promise<SlaDefinition | null> {
  const { rows } = await q.query<SlaDefinition>(
    `-- One SLA definition. Params: id.
SELECT ${SLA_COLUMNS} FROM sla_definitions WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ?? null;
}

/** Changes an SLA definition (its targets apply to timers started from now on). */
export async function updateSla(
  q: Queryable,
  id: string,
  s: Omit<SlaDefinition, 'id' | 'version'>,
): Promise<SlaDefinition> {
  const { rows } = await q.query<SlaDefinition>(
    `-- Update an SLA definition. Params: id, then its fields in order.
UPDATE sla_definitions SET name = $2, description = $3, priorities = $4, services = $5,
  response_minutes = $6, resolution_minutes = $7, calendar_id = $8, at_risk_share = $9,
  active = $10, version = version + 1, updated_at = now()
WHERE id = $1 RETURNING ${SLA_COLUMNS}`,
    [
      id,
      s.name,
      s.description,
      s.priorities,
      s.services,
      s.responseMinutes,
      s.resolutionMinutes,
      s.calendarId,
      s.atRiskShare,
      s.active,
    ],
  );
  return rows[0]!;
}

/** Every SLA definition, by name. */
export async function listSlas(q: Queryable): Promise<SlaDefinition[]> {
  const { rows } = await q.query<SlaDefinition>(
    `-- SLA definitions. Params: none.\nSELECT ${SLA_COLUMNS} FROM sla_definitions ORDER BY name`,
  );
  return rows;
}

/** What the SLA timers of an incident need to know of it. */
export type SlaSubject = {
  id: string;
  state: string;
  priority: number;
  service: string | null;
  openedAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
};

type TimerRow = {
  id: string;
  slaId: string;
  slaName: string;
  kind: 'response' | 'resolution';
  targetSeconds: number;
  elapsedSeconds: number;
  accountedAt: string;
  pausedSince: string | null;
  stoppedAt: string | null;
  atRiskShare: number;
  timezone: string | null;
  hours: BusinessCalendar['hours'] | null;
  holidays: string[] | null;
};

const TIMER_COLUMNS = `t.id, t.sla_id AS "slaId", d.name AS "slaName", t.kind,
  t.target_seconds AS "targetSeconds", t.elapsed_seconds AS "elapsedSeconds",
  t.accounted_at AS "accountedAt", t.paused_since AS "pausedSince", t.stopped_at AS "stoppedAt",
  d.at_risk_share::float AS "atRiskShare", c.timezone, c.hours,
  ARRAY(SELECT to_char(h, 'YYYY-MM-DD') FROM unnest(c.holidays) AS h) AS holidays`;

/** An SLA timer of an incident as served: its definition, kind, target and reading. */
export type SlaTimer = {
  id: string;
  slaId: string;
  sla: string;
  kind: 'response' | 'resolution';
  targetSeconds: number;
} & Omit<SlaReading, 'breachAt'> & { breachAt: string | null };

function clockOf(r: TimerRow): SlaClock {
  return {
    targetSeconds: r.targetSeconds,
    elapsedSeconds: r.elapsedSeconds,
    accountedAt: new Date(r.accountedAt),
    pausedSince: r.pausedSince === null ? null : new Date(r.pausedSince),
    stoppedAt: r.stoppedAt === null ? null : new Date(r.stoppedAt),
  };
}

function calendarOf(r: TimerRow): BusinessCalendar | null {
  return r.timezone === null
    ? null
    : { timezone: r.timezone, hours: r.hours ?? {}, holidays: r.holidays ?? [] };
}

/** Where an incident's state puts a timer: stopped, paused or running, as of its timestamps. */
function applyState(
  clock: SlaClock,
  kind: TimerRow['kind'],
  s: SlaSubject,
  cal: BusinessCalendar | null,
  now: Date,
): SlaClock {
  const stopAt = kind === 'response' ? s.acknowledgedAt : s.resolvedAt;
  if (stopAt !== null) return stop(clock, cal, new Date(stopAt));
  // A reopened incident's resolution timer runs again; a response, once given, stays given.
  let next = kind === 'resolution' ? restart(clock, now) : clock;
  const terminal = ['closed', 'canceled'].includes(s.state);
  if (terminal) return stop(next, cal, now);
  next = s.state === 'on_hold' ? pause(next, cal, now) : resume(next, now);
  return next;
}

/**
 * Brings an incident's SLA timers in line with it at `now`, in the caller's transaction: starts
 * the timers of the active SLAs that apply to it (by priority and service) from its opening,
 * pauses them on hold, stops the response at acknowledgement and the resolution at resolution,
 * restarts the resolution on reopen, and stores each timer's reading.
 */
export async function syncSlaTimers(q: Queryable, s: SlaSubject, now: Date): Promise<SlaTimer[]> {
  await q.query(
    `-- Start the timers of the SLAs that apply to an incident and have none yet.
-- Params: incident id, priority, service, opened at.
INSERT INTO sla_timers (sla_id, incident_id, kind, target_seconds, accounted_at, read_at)
SELECT d.id, $1, k.kind,
  CASE k.kind WHEN 'response' THEN d.response_minutes ELSE d.resolution_minutes END * 60, $4, $4
FROM sla_definitions d CROSS JOIN (VALUES ('response'), ('resolution')) AS k(kind)
WHERE d.active AND (cardinality(d.priorities) = 0 OR $2 = ANY(d.priorities))
  AND (cardinality(d.services) = 0 OR $3 = ANY(d.services))
ON CONFLICT (incident_id, sla_id, kind) DO NOTHING`,
    [s.id, s.priority, s.service, s.openedAt],
  );
  const { rows } = await q.query<TimerRow>(
    `-- An incident's SLA timers with their definitions and calendars, locked. Params: incident id.
SELECT ${TIMER_COLUMNS}
FROM sla_timers t JOIN sla_definitions d ON d.id = t.sla_id
LEFT JOIN business_calendars c ON c.id = d.calendar_id
WHERE t.incident_id = $1 ORDER BY d.name, t.kind
FOR UPDATE OF t`,
    [s.id],
  );
  const timers: SlaTimer[] = [];
  for (const row of rows) {
    const cal = calendarOf(row);
    const clock = applyState(clockOf(row), row.kind, s, cal, now);
    const reading = read(clock, cal, now, row.atRiskShare);
    await q.query(
      `-- Store a timer and its reading. Params: id, elapsed, accounted at, paused since, stopped at,
-- breach at, breached, at risk, read at.
UPDATE sla_timers SET elapsed_seconds = $2, accounted_at = $3, paused_since = $4, stopped_at = $5,
  breach_at = $6, breached = $7, at_risk = $8, read_at = $9
WHERE id = $1`,
      [
        row.id,
        clock.elapsedSeconds,
        clock.accountedAt.toISOString(),
        clock.pausedSince?.toISOString() ?? null,
        clock.stoppedAt?.toISOString() ?? null,
        reading.breachAt?.toISOString() ?? null,
        reading.breached,
        reading.atRisk,
        now.toISOString(),
      ],
    );
    timers.push({
      id: row.id,
      slaId: row.slaId,
      sla: row.slaName,
      kind: row.kind,
      targetSeconds: row.targetSeconds,
      ...reading,
      breachAt: reading.breachAt?.toISOString() ?? null,
    });
  }
  return timers;
}

/** What the SLA timers need of an incident, locked for the caller's transaction; null if gone. */
export async function lockSlaSubject(q: Queryable, id: string): Promise<SlaSubject | null> {
  const { rows } = await q.query<SlaSubject>(
    `-- An incident as its SLA timers see it, locked. Params: id.
SELECT id, state, priority, service, opened_at AS "openedAt", acknowledged_at AS "acknowledgedAt",
  resolved_at AS "resolvedAt"
FROM incidents WHERE id = $1 FOR UPDATE`,
    [id],
  );
  return rows[0] ?? null;
}

/**
 * Incidents after `after` whose timers still run, or that are open with none while an SLA is
 * active (opened by the correlator, say), for the sweep; paged by id. Each part is read from an
 * index of what it asks for (live timers; open incidents), never from the whole incident history:
 * asked of every incident, the sweep scanned it all every 30 s.
 */
export async function incidentsWithLiveSlas(
  q: Queryable,
  after: string,
  limit: number,
): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(
    `-- Incidents whose SLA timers need reading. Params: after id, limit.
SELECT id FROM (
  SELECT t.incident_id AS id FROM sla_timers t WHERE t.stopped_at IS NULL AND t.incident_id > $1
  UNION
  SELECT i.id FROM incidents i
  WHERE i.state IN ('new', 'in_progress', 'on_hold') AND i.id > $1
    AND NOT EXISTS (SELECT 1 FROM sla_timers t WHERE t.incident_id = i.id)
    AND EXISTS (SELECT 1 FROM sla_definitions d WHERE d.active)) due
ORDER BY id LIMIT $2`,
    [after, limit],
  );
  return rows.map((r) => r.id);
}

/** Service-level figures over incidents opened in [from, to). */
export type Stats = {
  from: string;
  to: string;
  incidents: number;
  /** Mean time to acknowledge and to resolve, in seconds (null with none). */
  mttaSeconds: number | null;
  mttrSeconds: number | null;
  /** Share of finished SLA timers that were met, overall and per kind (null with none). */
  slaMet: { all: number | null; response: number | null; resolution: number | null };
  byService: { service: string | null; incidents: number }[];
  byCi: { ci: string; incidents: number }[];
};

/** MTTA, MTTR, SLA met share and incident counts per service and CI, over a range. */
export async function incidentStats(q: Queryable, from: string, to: string): Promise<Stats> {
  const { rows } = await q.query<
    Omit<Stats, 'from' | 'to' | 'byService' | 'byCi'> & {
      metAll: number | null;
      metResponse: number | null;
      metResolution: number | null;
    }
  >(
    `-- Figures over the incidents opened in a range. Params: from, to.
WITH scope AS (SELECT * FROM incidents WHERE opened_at >= $1 AND opened_at < $2),
timers AS (
  SELECT t.kind, t.breached FROM sla_timers t JOIN scope s ON s.id = t.incident_id
  WHERE t.stopped_at IS NOT NULL)
SELECT (SELECT count(*)::int FROM scope) AS incidents,
  (SELECT avg(extract(epoch FROM acknowledged_at - opened_at))::float FROM scope
   WHERE acknowledged_at IS NOT NULL) AS "mttaSeconds",
  (SELECT avg(extract(epoch FROM resolved_at - opened_at))::float FROM scope
   WHERE resolved_at IS NOT NULL) AS "mttrSeconds",
  (SELECT avg(CASE WHEN breached THEN 0 ELSE 1 END)::float FROM timers) AS "metAll",
  (SELECT avg(CASE WHEN breached THEN 0 ELSE 1 END)::float FROM timers WHERE kind = 'response')
    AS "metResponse",
  (SELECT avg(CASE WHEN breached THEN 0 ELSE 1 END)::float FROM timers WHERE kind = 'resolution')
    AS "metResolution"`,
    [from, to],
  );
  const byService = await q.query<{ service: string | null; incidents: number }>(
    `-- Incidents per service in a range, most first. Params: from, to.
SELECT service, count(*)::int AS incidents FROM incidents WHERE opened_at >= $1 AND opened_at < $2
GROUP BY service ORDER BY incidents DESC, service LIMIT 50`,
    [from, to],
  );
  const byCi = await q.query<{ ci: string; incidents: number }>(
    `-- Incidents per CI in a range, most first. Params: from, to.
SELECT ci, count(*)::int AS incidents
FROM incidents, unnest(cis) AS ci WHERE opened_at >= $1 AND opened_at < $2
GROUP BY ci ORDER BY incidents DESC, ci LIMIT 50`,
    [from, to],
  );
  const r = rows[0]!;
  return {
    from,
    to,
    incidents: r.incidents,
    mttaSeconds: r.mttaSeconds,
    mttrSeconds: r.mttrSeconds,
    slaMet: { all: r.metAll, response: r.metResponse, resolution: r.metResolution },
    byService: byService.rows,
    byCi: byCi.rows,
  };
}
