import { severities } from '../../correlator/alert.ts';
import type { Queryable } from './db.ts';
import { enqueueOutbox } from './outbox.ts';
import { lockSlaSubject, syncSlaTimers } from './slas.ts';

/** The corrections a person can make to the correlation. */
export type OverrideKind = 'move' | 'merge' | 'split';

type OverrideBase = {
  id: string;
  actor: string;
  createdAt: string;
  appliedAt: string | null;
};

/**
 * A person's correction as the correlator replays it: `merge` moved every alert of `incidentIds`
 * into `into`; `split` and `move` put `alertIds` (pinned) into `incidentId` from `from`.
 */
export type CorrelationOverride =
  | (OverrideBase & { kind: 'merge'; payload: { incidentIds: string[]; into: string } })
  | (OverrideBase & {
      kind: 'split';
      payload: { alertIds: string[]; from: string; incidentId: string };
    })
  | (OverrideBase & {
      kind: 'move';
      payload: { alertIds: string[]; from: string | null; incidentId: string };
    });

/**
 * Why a correction was refused, with a JSON pointer into the request body (`''`: the record of
 * the path). The API maps each reason to its answer.
 */
export type OverrideRefusal =
  | { ok: false; reason: 'unknown-incident'; id: string; pointer: string }
  | { ok: false; reason: 'unknown-alert'; id: string; pointer: string }
  | {
      ok: false;
      reason: 'incident-closed';
      id: string;
      number: string;
      state: string;
      mergedInto: string | null;
      pointer: string;
    }
  | { ok: false; reason: 'merge-into-self'; id: string; pointer: string }
  | {
      ok: false;
      reason: 'alert-not-in-incident';
      id: string;
      incidentId: string | null;
      pointer: string;
    }
  | { ok: false; reason: 'split-takes-all'; pointer: string };

/** Called with the version of the record the request names before anything changes (If-Match). */
export type Precondition = (version: number) => void;

type LockedIncident = {
  id: string;
  number: string;
  state: string;
  mergedInto: string | null;
  version: number;
};

const LOCK_INCIDENTS = `
-- Incidents a correction touches, locked in id order (so two corrections never deadlock).
-- Params: ids.
SELECT id, number, state, merged_into AS "mergedInto", version::int AS version
FROM incidents WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`;

const LOCK_ALERTS = `
-- Alerts a correction moves, locked in id order. Params: ids.
SELECT id, incident_id AS "incidentId", version::int AS version
FROM alerts WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`;

const ALERT_INCIDENT = `
-- The incident an alert is in, unlocked (to know which incidents to lock first). Params: id.
SELECT incident_id AS "incidentId" FROM alerts WHERE id = $1`;

const COUNT_ALERTS = `
-- How many alerts an incident has. Params: incident id.
SELECT count(*)::int AS n FROM alerts WHERE incident_id = $1`;

const REASSIGN_ALERTS = `
-- Move alerts (by id, or every alert of some incidents) to an incident, pinning them when asked,
-- and write their audit entries (alerts have no audit trigger: they change with every delivery).
-- Params: alert ids, from incident ids, to incident id, pin.
WITH moved AS (
  UPDATE alerts a SET incident_id = $3, pinned = a.pinned OR $4, version = a.version + 1,
    updated_at = now()
  FROM (SELECT id, incident_id, pinned FROM alerts
        WHERE id = ANY($1::bigint[]) OR incident_id = ANY($2::bigint[])) AS o
  WHERE a.id = o.id
  RETURNING a.id, o.incident_id AS old_incident, a.incident_id AS new_incident,
    o.pinned AS old_pinned, a.pinned AS new_pinned
), audited AS (
  INSERT INTO audit_log (record_type, record_id, actor, operation, action, field, old_value,
    new_value)
  SELECT 'alert', m.id, COALESCE(NULLIF(current_setting('tocsin.actor', true), ''), 'system'),
    'update', NULLIF(current_setting('tocsin.action', true), ''), c.field, c.old, c.new
  FROM moved m CROSS JOIN LATERAL (VALUES
    ('incident_id', to_jsonb(m.old_incident), to_jsonb(m.new_incident)),
    ('pinned', to_jsonb(m.old_pinned), to_jsonb(m.new_pinned))) AS c(field, old, new)
  WHERE c.old IS DISTINCT FROM c.new
)
SELECT id, old_incident AS "from" FROM moved ORDER BY id`;

const RECOMPUTE = `
-- Re-derive incidents' fields from the alerts they now have: count, CIs (in order of their first
-- alert), last alert, opening (the earliest alert; never later than it was), severity (the worst
-- firing alert; kept when none fires). An incident left without alerts keeps its CIs and times.
-- Params: incident ids, severities most severe first.
UPDATE incidents i SET
  alert_count = d.n,
  cis = CASE WHEN d.n > 0 THEN d.cis ELSE i.cis END,
  last_alert_at = COALESCE(d.last_at, i.last_alert_at),
  opened_at = LEAST(i.opened_at, d.first_at),
  severity = COALESCE(d.worst_firing, i.severity),
  version = i.version + 1, updated_at = now()
FROM (
  SELECT x.id, count(a.id)::int AS n,
    ARRAY(SELECT ci FROM alerts WHERE incident_id = x.id AND ci IS NOT NULL
          GROUP BY ci ORDER BY min(starts_at), ci) AS cis,
    max(a.starts_at) AS last_at, min(a.starts_at) AS first_at,
    (array_agg(a.severity ORDER BY array_position($2::text[], a.severity))
      FILTER (WHERE a.status = 'firing'))[1] AS worst_firing
  FROM unnest($1::bigint[]) AS x(id) LEFT JOIN alerts a ON a.incident_id = x.id
  GROUP BY x.id
) AS d
WHERE i.id = d.id`;

const OPEN_AS_EARLY_AS = `
-- A merge target was open as long as the earliest incident merged into it. Params: target id,
-- merged incident ids.
UPDATE incidents SET opened_at = LEAST(opened_at,
  (SELECT min(opened_at) FROM incidents WHERE id = ANY($2::bigint[])))
WHERE id = $1`;

const CANCEL = `
-- Cancel incidents a person merged away or emptied, with a resolution note. Params: ids, merged
-- into (null: emptied), resolution code, resolution notes.
UPDATE incidents SET state = 'canceled', merged_into = $2, resolution_code = $3,
  resolution_notes = $4, closed_at = COALESCE(closed_at, now()), hold_reason = NULL,
  resolves_at = NULL, version = version + 1, updated_at = now()
WHERE id = ANY($1::bigint[])`;

const LEADING_ALERT = `
-- The alert that names a new incident: the worst firing one (else the worst), then the earliest;
-- with the earliest start of them all, its opening. Params: alert ids, severities most severe first.
SELECT title, ci, severity, min(starts_at) OVER () AS "openedAt"
FROM alerts WHERE id = ANY($1::bigint[])
ORDER BY status = 'firing' DESC, array_position($2::text[], severity), starts_at, id LIMIT 1`;

const OPEN_SPLIT = `
-- Open the incident a person split alerts into, with the impact, urgency and priority of the one
-- they came from; its derived fields follow from its alerts. Params: from id, title, severity,
-- opened at, created by.
INSERT INTO incidents (title, severity, impact, urgency, priority, opened_at, last_alert_at,
  created_by)
SELECT $2, $3, impact, urgency, priority, $4, $4, $5 FROM incidents WHERE id = $1
RETURNING id`;

const INSERT_OVERRIDE = `
-- Record a person's correction for the correlator to replay. Params: kind, payload, actor.
INSERT INTO correlation_overrides (kind, payload, actor) VALUES ($1, $2, $3) RETURNING id`;

const PENDING = `
-- Corrections the correlator has not applied yet, in the order they were made.
-- Params: after id, limit.
SELECT id, kind, payload, actor, created_at AS "createdAt", applied_at AS "appliedAt"
FROM correlation_overrides WHERE applied_at IS NULL AND id > $1 ORDER BY id LIMIT $2`;

const MARK_APPLIED = `
-- Note corrections as applied to the correlator's state. Params: ids.
UPDATE correlation_overrides SET applied_at = now()
WHERE id = ANY($1::bigint[]) AND applied_at IS NULL`;

const closedStates = new Set(['closed', 'canceled']);

async function lockIncidents(q: Queryable, ids: string[]): Promise<Map<string, LockedIncident>> {
  const { rows } = await q.query<LockedIncident>(LOCK_INCIDENTS, [ids]);
  return new Map(rows.map((r) => [r.id, r]));
}

/** Refuses a closed or canceled (merged) incident as a party to a correction. */
function closed(incident: LockedIncident, pointer: string): OverrideRefusal | null {
  if (!closedStates.has(incident.state)) return null;
  return {
    ok: false,
    reason: 'incident-closed',
    id: incident.id,
    number: incident.number,
    state: incident.state,
    mergedInto: incident.mergedInto,
    pointer,
  };
}

async function reassignAlerts(
  q: Queryable,
  which: { alertIds?: string[]; incidentIds?: string[] },
  to: string,
  pin: boolean,
): Promise<{ id: string; from: string | null }[]> {
  const { rows } = await q.query<{ id: string; from: string | null }>(REASSIGN_ALERTS, [
    which.alertIds ?? [],
    which.incidentIds ?? [],
    to,
    pin,
  ]);
  return rows;
}

async function recompute(q: Queryable, incidentIds: string[]): Promise<void> {
  await q.query(RECOMPUTE, [incidentIds, severities]);
}

async function syncTimers(q: Queryable, incidentIds: string[]): Promise<void> {
  const now = new Date();
  for (const id of incidentIds) {
    const subject = await lockSlaSubject(q, id);
    if (subject) await syncSlaTimers(q, subject, now);
  }
}

async function recordOverride(
  q: Queryable,
  kind: OverrideKind,
  payload: CorrelationOverride['payload'],
  actor: string,
): Promise<string> {
  const { rows } = await q.query<{ id: string }>(INSERT_OVERRIDE, [
    kind,
    JSON.stringify(payload),
    actor,
  ]);
  return rows[0]!.id;
}

/** What a merge did. */
export type Merged = { ok: true; overrideId: string; alertIds: string[] };

/**
 * Merges incidents into `into`, in the caller's transaction (which has set the actor): every
 * alert of theirs moves (pinned or not as it was), each of them is canceled with `merged_into`
 * and a note, `into` is re-derived from its alerts, and the correction is recorded.
 */
export async function mergeIncidents(
  q: Queryable,
  input: { into: string; incidentIds: string[]; actor: string; precondition?: Precondition },
): Promise<Merged | OverrideRefusal> {
  const { into, incidentIds, actor } = input;
  const locked = await lockIncidents(q, [into, ...incidentIds]);
  const target = locked.get(into);
  if (!target) return { ok: false, reason: 'unknown-incident', id: into, pointer: '' };
  input.precondition?.(target.version);
  const targetClosed = closed(target, '');
  if (targetClosed) return targetClosed;
  for (const [i, id] of incidentIds.entries()) {
    const pointer = `/incidentIds/${i}`;
    if (id === into) return { ok: false, reason: 'merge-into-self', id, pointer };
    const merged = locked.get(id);
    if (!merged) return { ok: false, reason: 'unknown-incident', id, pointer };
    const mergedClosed = closed(merged, pointer);
    if (mergedClosed) return mergedClosed;
  }
  const moved = await reassignAlerts(q, { incidentIds }, into, false);
  await q.query(CANCEL, [incidentIds, into, 'merged', `Merged into ${target.number} by ${actor}.`]);
  await q.query(OPEN_AS_EARLY_AS, [into, incidentIds]);
  await recompute(q, [into, ...incidentIds]);
  await syncTimers(q, [into, ...incidentIds]);
  const overrideId = await recordOverride(q, 'merge', { incidentIds, into }, actor);
  const alertIds = moved.map((m) => m.id);
  await enqueueOutbox(q, 'incident', [into, ...incidentIds]);
  await enqueueOutbox(q, 'alert', alertIds);
  return { ok: true, overrideId, alertIds };
}

/** What a split did: the incident it opened. */
export type Split = { ok: true; overrideId: string; incidentId: string };

/**
 * Splits alerts of `from` (some, never all) into a new incident named after its leading alert,
 * created by `actor`, in the caller's transaction: the alerts are pinned there, both incidents
 * are re-derived from their alerts, and the correction is recorded.
 */
export async function splitIncident(
  q: Queryable,
  input: { from: string; alertIds: string[]; actor: string; precondition?: Precondition },
): Promise<Split | OverrideRefusal> {
  const { from, alertIds, actor } = input;
  const source = (await lockIncidents(q, [from])).get(from);
  if (!source) return { ok: false, reason: 'unknown-incident', id: from, pointer: '' };
  input.precondition?.(source.version);
  const sourceClosed = closed(source, '');
  if (sourceClosed) return sourceClosed;
  const refused = await checkAlertsIn(q, alertIds, from);
  if (refused) return refused;
  const { rows: count } = await q.query<{ n: number }>(COUNT_ALERTS, [from]);
  if (count[0]!.n <= alertIds.length)
    return { ok: false, reason: 'split-takes-all', pointer: '/alertIds' };

  const { rows: leading } = await q.query<{
    title: string;
    ci: string | null;
    severity: string;
    openedAt: string;
  }>(LEADING_ALERT, [alertIds, severities]);
  const lead = leading[0]!;
  const title = lead.ci ? `${lead.title} on ${lead.ci}` : lead.title;
  const { rows: opened } = await q.query<{ id: string }>(OPEN_SPLIT, [
    from,
    title,
    lead.severity,
    lead.openedAt,
    actor,
  ]);
  const incidentId = opened[0]!.id;
  await reassignAlerts(q, { alertIds }, incidentId, true);
  await recompute(q, [from, incidentId]);
  await syncTimers(q, [from, incidentId]);
  const overrideId = await recordOverride(q, 'split', { alertIds, from, incidentId }, actor);
  await enqueueOutbox(q, 'incident', [from, incidentId]);
  await enqueueOutbox(q, 'alert', alertIds);
  return { ok: true, overrideId, incidentId };
}

/** Locks the alerts and refuses an unknown one or one not in the incident. */
async function checkAlertsIn(
  q: Queryable,
  alertIds: string[],
  incidentId: string,
): Promise<OverrideRefusal | null> {
  const { rows } = await q.query<{ id: string; incidentId: string | null }>(LOCK_ALERTS, [
    alertIds,
  ]);
  const found = new Map(rows.map((r) => [r.id, r]));
  for (const [i, id] of alertIds.entries()) {
    const pointer = `/alertIds/${i}`;
    const alert = found.get(id);
    if (!alert) return { ok: false, reason: 'unknown-alert', id, pointer };
    if (alert.incidentId !== incidentId)
      return {
        ok: false,
        reason: 'alert-not-in-incident',
        id,
        incidentId: alert.incidentId,
        pointer,
      };
  }
  return null;
}

/** What a move did: where the alert came from, and whether that incident was left empty. */
export type Moved = {
  ok: true;
  overrideId: string;
  from: string | null;
  /** The incident it left had no alert any more and was canceled. */
  canceled: boolean;
};

/**
 * Moves an alert to an incident and pins it there, in the caller's transaction: both incidents
 * are re-derived from their alerts, one left without alerts is canceled (not merged) with a
 * note, and the correction is recorded. Moving an alert to its own incident pins it.
 */
export async function moveAlert(
  q: Queryable,
  input: { alertId: string; incidentId: string; actor: string; precondition?: Precondition },
): Promise<Moved | OverrideRefusal> {
  const { alertId, incidentId: to, actor } = input;
  const { rows: seen } = await q.query<{ incidentId: string | null }>(ALERT_INCIDENT, [alertId]);
  if (!seen[0]) return { ok: false, reason: 'unknown-alert', id: alertId, pointer: '' };
  const lockedIncidents = await lockIncidents(
    q,
    [seen[0].incidentId, to].filter((id): id is string => id !== null),
  );
  const { rows: alerts } = await q.query<{ incidentId: string | null; version: number }>(
    LOCK_ALERTS,
    [[alertId]],
  );
  const alert = alerts[0];
  if (!alert) return { ok: false, reason: 'unknown-alert', id: alertId, pointer: '' };
  input.precondition?.(alert.version);
  const from = alert.incidentId;
  // The correlator moved it between our look and our lock: lock where it is now too.
  if (from !== null && !lockedIncidents.has(from))
    for (const [id, row] of await lockIncidents(q, [from])) lockedIncidents.set(id, row);
  const target = lockedIncidents.get(to);
  if (!target) return { ok: false, reason: 'unknown-incident', id: to, pointer: '/incidentId' };
  const targetClosed = closed(target, '/incidentId');
  if (targetClosed) return targetClosed;

  await reassignAlerts(q, { alertIds: [alertId] }, to, true);
  const touched = from === null || from === to ? [to] : [from, to];
  await recompute(q, touched);
  let canceled = false;
  const source = from === null ? undefined : lockedIncidents.get(from);
  if (source && from !== to && !closedStates.has(source.state)) {
    const { rows: left } = await q.query<{ n: number }>(COUNT_ALERTS, [from]);
    if (left[0]!.n === 0) {
      await q.query(CANCEL, [
        [from],
        null,
        'canceled',
        `Its last alert was moved to ${target.number} by ${actor}; no alert is left in it.`,
      ]);
      canceled = true;
    }
  }
  await syncTimers(q, touched);
  const overrideId = await recordOverride(
    q,
    'move',
    { alertIds: [alertId], from, incidentId: to },
    actor,
  );
  await enqueueOutbox(q, 'incident', touched);
  await enqueueOutbox(q, 'alert', [alertId]);
  return { ok: true, overrideId, from, canceled };
}

/**
 * Corrections not yet applied to the correlator's state, after `afterId`, oldest first: the
 * correlator replays them in this order and then marks them applied.
 */
export async function pendingOverrides(
  q: Queryable,
  afterId: string,
  limit: number,
): Promise<CorrelationOverride[]> {
  const { rows } = await q.query<CorrelationOverride>(PENDING, [afterId, limit]);
  return rows;
}

/** Marks corrections applied to the correlator's state; returns how many were pending. */
export async function markOverridesApplied(q: Queryable, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const { rowCount } = await q.query(MARK_APPLIED, [ids]);
  return rowCount ?? 0;
}
