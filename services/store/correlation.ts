/**
 * What the live correlator reads and writes: the inbox in order, the CMDB snapshot, the live
 * incidents to restore its state from, and each batch's effects written in bulk (one statement
 * per kind of row, from one JSON parameter, so a batch of thousands of alerts is a handful of
 * round trips).
 */
import type { Alert, Severity } from '../../correlator/alert.ts';
import type { Queryable } from './db.ts';
import { markProcessed } from './inbox.ts';
import { toJsonb } from './jsonb.ts';

/** An accepted alert waiting for the correlator, in inbox order. */
export type PendingDelivery = {
  id: string;
  receivedAt: string;
  deliveryId: string | null;
  alert: Alert;
};

const PENDING = `
-- The next accepted alerts not yet correlated, in inbox order, but for the id range of a batch
-- being written; only the correlator holding the lease reads them, so nothing is locked.
-- Params: limit, first and last id of the batch being written (or none: 0, 0).
SELECT id, received_at, delivery_id, alert FROM alert_inbox
WHERE processed_at IS NULL AND NOT (id BETWEEN $2 AND $3) ORDER BY id LIMIT $1`;

/**
 * The next uncorrelated inbox rows, oldest first, leaving out the id range of a batch whose write
 * has not committed yet (a row in that range committed late is read once that write is done).
 */
export async function nextDeliveries(
  q: Queryable,
  limit: number,
  writing: { first: string; last: string } | null = null,
): Promise<PendingDelivery[]> {
  const { rows } = await q.query<{
    id: string;
    received_at: string;
    delivery_id: string | null;
    alert: Alert;
  }>(PENDING, [limit, writing?.first ?? '0', writing?.last ?? '0']);
  return rows.map((r) => ({
    id: r.id,
    receivedAt: r.received_at,
    deliveryId: r.delivery_id,
    alert: r.alert,
  }));
}

/** The CMDB as the correlator sees it. */
export type CmdbSnapshot = {
  cis: { name: string; class: string; attributes: Record<string, unknown> }[];
  relationships: { source: string; target: string; type: string }[];
};

/** Reads every CI and relationship. */
export async function readCmdb(q: Queryable): Promise<CmdbSnapshot> {
  const [cis, relationships] = await Promise.all([
    q.query<CmdbSnapshot['cis'][number]>(
      `-- Every CI, for the correlator's topology. Params: none.
SELECT name, class, attributes FROM configuration_items ORDER BY id`,
    ),
    q.query<CmdbSnapshot['relationships'][number]>(
      `-- Every relationship by CI name, for the correlator's topology. Params: none.
SELECT s.name AS source, t.name AS target, r.type FROM ci_relationships r
JOIN configuration_items s ON s.id = r.source_id JOIN configuration_items t ON t.id = r.target_id
ORDER BY r.id`,
    ),
  ]);
  return { cis: cis.rows, relationships: relationships.rows };
}

/**
 * A stamp that changes whenever a CI or relationship is added, changed or removed: the CMDB's
 * version, which every transaction writing either table bumps as it commits (migrations 0014
 * and 0016).
 */
export async function cmdbStamp(q: Queryable): Promise<string> {
  const { rows } = await q.query<{ stamp: string }>(
    `-- The CMDB's version: it changes with every write to CIs or relationships. Params: none.
SELECT version::text AS stamp FROM cmdb_version`,
  );
  return rows[0]!.stamp;
}

/** An alert of a live incident, as the correlator restores it. */
export type StoredAlert = {
  id: string;
  fingerprint: string;
  source: string;
  ci: string | null;
  service: string | null;
  title: string;
  description: string | null;
  severity: Severity;
  status: 'firing' | 'resolved';
  startsAt: string;
  endsAt: string | null;
  lastReceivedAt: string;
  flapping: boolean;
  changes: number;
  expiredAt: string | null;
  pinned: boolean;
  count: number;
  explanation: unknown;
  template: string | null;
  recentChanges: string[];
};

/** A live incident with its alerts. */
export type StoredIncident = {
  id: string;
  state: string;
  openedAt: string;
  lastAlertAt: string;
  resolvedAt: string | null;
  resolvesAt: string | null;
  reopenCount: number;
  createdBy: string;
  /** A person merged, split or moved alerts of it (a correlation override names it). */
  corrected: boolean;
  alerts: StoredAlert[];
};

// Every incident the engine may still hold, in the order they were made (ties between equal
// scores go to the older incident): open ones, any with an alert still firing or flapping (a
// person may close an incident whose alerts fire on), and any whose last alert came after the
// horizon (resolved or closed ones are forgotten only once idle that long). The IN is one hashed
// pass over the alerts, not a probe per stored incident; this runs on taking the lease only.
const LIVE_INCIDENTS = `
-- The incidents the correlator may still change, with their alerts. Params: last alert since.
SELECT i.id, i.state, i.opened_at, i.last_alert_at, i.resolved_at, i.resolves_at,
  i.reopen_count, i.created_by,
  EXISTS (SELECT 1 FROM correlation_overrides o WHERE i.id::text IN (o.payload ->> 'into',
    o.payload ->> 'from', o.payload ->> 'incidentId')) AS corrected,
  coalesce(jsonb_agg(jsonb_build_object('id', a.id::text, 'fingerprint', a.fingerprint,
    'source', a.source, 'ci', a.ci, 'service', a.service, 'title', a.title,
    'description', a.description, 'severity', a.severity, 'status', a.status,
    'startsAt', a.starts_at, 'endsAt', a.ends_at, 'lastReceivedAt', a.last_received_at,
    'flapping', a.flapping, 'changes', a.changes, 'expiredAt', a.expired_at, 'pinned', a.pinned,
    'count', a.count, 'explanation', a.explanation, 'template', a.template,
    'recentChanges', a.recent_changes) ORDER BY a.id)
    FILTER (WHERE a.id IS NOT NULL), '[]') AS alerts
FROM incidents i LEFT JOIN alerts a ON a.incident_id = i.id
WHERE i.merged_into IS NULL
  AND (i.state IN ('new', 'in_progress', 'on_hold') OR i.last_alert_at >= $1
    OR i.resolved_at >= $1
    OR i.id IN (SELECT incident_id FROM alerts WHERE status = 'firing' OR flapping))
GROUP BY i.id ORDER BY i.id`;

/** The incidents to restore the correlator's state from (see LIVE_INCIDENTS). */
export async function liveIncidents(
  q: Queryable,
  lastAlertSince: string,
): Promise<StoredIncident[]> {
  const { rows } = await q.query<{
    id: string;
    state: string;
    opened_at: string;
    last_alert_at: string;
    resolved_at: string | null;
    resolves_at: string | null;
    reopen_count: number;
    created_by: string;
    corrected: boolean;
    alerts: StoredAlert[];
  }>(LIVE_INCIDENTS, [lastAlertSince]);
  return rows.map((r) => ({
    id: r.id,
    state: r.state,
    openedAt: r.opened_at,
    lastAlertAt: r.last_alert_at,
    resolvedAt: r.resolved_at,
    resolvesAt: r.resolves_at,
    reopenCount: r.reopen_count,
    createdBy: r.created_by,
    corrected: r.corrected,
    alerts: r.alerts,
  }));
}

/** The latest event time the correlator had seen at its last written batch (null: none yet). */
export async function latestEventTime(q: Queryable): Promise<string | null> {
  const { rows } = await q.query<{ latest_event_at: string | null }>(
    `-- Where the correlator's event time stood. Params: none.
SELECT latest_event_at FROM correlator_state`,
  );
  return rows[0]?.latest_event_at ?? null;
}

/**
 * The distinct templates of the stored alerts, in the order the engine made them (alert ids are
 * reserved in that order): what rebuilds its text statistics. Reads every alert once; run on
 * taking the lease only.
 */
export async function alertTemplates(q: Queryable): Promise<string[]> {
  const { rows } = await q.query<{ template: string }>(
    `-- Each alert template once, by its first alert. Params: none.
SELECT template FROM alerts WHERE template IS NOT NULL
GROUP BY template ORDER BY min(id)`,
  );
  return rows.map((r) => r.template);
}

/** Incidents a person closed or canceled since a time: the correlator stops feeding them. */
export async function incidentsClosedSince(q: Queryable, since: string): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(
    `-- Incidents closed or canceled since a time. Params: since.
SELECT id FROM incidents WHERE state IN ('closed', 'canceled') AND updated_at >= $1`,
    [since],
  );
  return rows.map((r) => r.id);
}

/** Reserves ids for rows the correlator is about to insert, so it knows them before it writes. */
export async function reserveIds(
  q: Queryable,
  table: 'alerts' | 'incidents',
  n: number,
): Promise<string[]> {
  if (n === 0) return [];
  const { rows } = await q.query<{ id: string }>(
    `-- Reserve ids from a table's identity. Params: table, how many.
SELECT nextval(pg_get_serial_sequence($1, 'id'))::text AS id FROM generate_series(1, $2)`,
    [table, n],
  );
  return rows.map((r) => r.id);
}

/**
 * Exported for the test of its plan. One probe of the (fingerprint, episode) index per
 * fingerprint, whatever the planner knows of the table: written as `fingerprint = ANY($1)` it
 * was planned as a parallel scan of every alert whenever the statistics were missing or stale (a
 * table grown by 100,000 alerts since it was last analyzed), ~100 ms for a batch's ~700 new
 * fingerprints, on the correlator's path.
 */
export const LATEST_EPISODES = `
-- The latest episode of each fingerprint. Params: fingerprints.
SELECT f.fingerprint, e.episode FROM unnest($1::text[]) AS f(fingerprint)
CROSS JOIN LATERAL (SELECT max(a.episode)::int AS episode FROM alerts a
  WHERE a.fingerprint = f.fingerprint) e
WHERE e.episode IS NOT NULL`;

/** The highest episode stored for each fingerprint. */
export async function latestEpisodes(
  q: Queryable,
  fingerprints: string[],
): Promise<Map<string, number>> {
  if (fingerprints.length === 0) return new Map();
  const { rows } = await q.query<{ fingerprint: string; episode: number }>(LATEST_EPISODES, [
    fingerprints,
  ]);
  return new Map(rows.map((r) => [r.fingerprint, r.episode]));
}

/** One alert row to insert or update. */
export type AlertWrite = {
  id: string;
  insert: boolean;
  fingerprint: string;
  episode: number;
  incidentId: string;
  status: 'firing' | 'resolved';
  severity: Severity;
  startsAt: string;
  endsAt: string | null;
  template: string;
  /**
   * Why it is in its incident; null on an update when it is the one already stored (most
   * re-sends): not sent again, the stored one stays.
   */
  explanation: unknown;
  flapping: boolean;
  changes: number;
  /** Event times of its latest firing/resolved changes (the engine's flap history). */
  recentChanges: string[];
  expiredAt: string | null;
  pinned: boolean;
  count: number;
  /** The latest delivery's content, when this batch had one for the alert. */
  content: {
    ci: string | null;
    title: string;
    description: string | null;
    source: string;
    service: string | null;
    labels: Record<string, string>;
    receivedAt: string;
    firstReceivedAt: string;
    deliveryId: string | null;
    partial: boolean;
  } | null;
};

const INSERT_ALERTS = `
-- New alert episodes of a batch. Params: JSON array of rows.
INSERT INTO alerts (id, fingerprint, episode, incident_id, ci, title, description, severity,
  status, source, service, labels, starts_at, ends_at, first_received_at, last_received_at,
  last_delivery_id, count, template, explanation, flapping, changes, recent_changes, expired_at,
  pinned)
OVERRIDING SYSTEM VALUE
SELECT x.id, x.fingerprint, x.episode, x.incident_id, x.content ->> 'ci', x.content ->> 'title',
  x.content ->> 'description', x.severity, x.status, x.content ->> 'source',
  x.content ->> 'service', coalesce(x.content -> 'labels', '{}'), x.starts_at, x.ends_at,
  (x.content ->> 'firstReceivedAt')::timestamptz, (x.content ->> 'receivedAt')::timestamptz,
  (x.content ->> 'deliveryId')::bigint, x.count, x.template, x.explanation, x.flapping, x.changes,
  x.recent_changes, x.expired_at, x.pinned
FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, fingerprint text, episode int,
  incident_id bigint, severity text, status text, starts_at timestamptz, ends_at timestamptz,
  count int, template text, explanation jsonb, flapping boolean, changes int,
  recent_changes timestamptz[], expired_at timestamptz, pinned boolean, content jsonb)`;

const UPDATE_ALERTS = `
-- Alerts a batch changed: a re-send's content (a partial one keeps the text), status, incident,
-- explanation, flapping and flap history, expiry. Params: JSON array of rows.
UPDATE alerts a SET incident_id = x.incident_id, severity = CASE WHEN x.content IS NULL
    OR (x.content ->> 'partial')::boolean THEN a.severity ELSE x.severity END,
  status = x.status, starts_at = x.starts_at,
  ends_at = CASE WHEN x.status = 'firing' THEN NULL ELSE coalesce(x.ends_at, a.ends_at) END,
  count = x.count, flapping = x.flapping, changes = x.changes,
  recent_changes = x.recent_changes, expired_at = x.expired_at, pinned = x.pinned,
  explanation = coalesce(x.explanation, a.explanation), template = x.template,
  ci = CASE WHEN x.content IS NULL OR (x.content ->> 'partial')::boolean THEN a.ci
    ELSE x.content ->> 'ci' END,
  title = CASE WHEN x.content IS NULL OR (x.content ->> 'partial')::boolean THEN a.title
    ELSE x.content ->> 'title' END,
  description = CASE WHEN x.content IS NULL OR (x.content ->> 'partial')::boolean
    THEN a.description ELSE x.content ->> 'description' END,
  service = CASE WHEN x.content IS NULL OR (x.content ->> 'partial')::boolean THEN a.service
    ELSE x.content ->> 'service' END,
  labels = CASE WHEN x.content IS NULL THEN a.labels
    WHEN (x.content ->> 'partial')::boolean THEN a.labels || (x.content -> 'labels')
    ELSE x.content -> 'labels' END,
  last_received_at = greatest(a.last_received_at, (x.content ->> 'receivedAt')::timestamptz),
  last_delivery_id = coalesce((x.content ->> 'deliveryId')::bigint, a.last_delivery_id),
  version = a.version + 1, updated_at = now()
FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, incident_id bigint, severity text,
  status text, starts_at timestamptz, ends_at timestamptz, count int, template text,
  explanation jsonb, flapping boolean, changes int, recent_changes timestamptz[],
  expired_at timestamptz, pinned boolean, content jsonb)
WHERE a.id = x.id`;

const TOUCH_ALERTS = `
-- Re-sends that changed nothing but an alert's delivery count and last-received time: neither
-- column is in an index, so with the table's free space each is a heap-only update. The stored
-- raw payload stays the one that last changed the alert. Params: JSON array of rows.
UPDATE alerts a SET count = x.count,
  last_received_at = greatest(a.last_received_at, x.received_at),
  version = a.version + 1, updated_at = now()
FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, count int, received_at timestamptz)
WHERE a.id = x.id`;

/** A re-send that changed only an alert's delivery count and last-received time. */
export type AlertTouch = { id: string; count: number; receivedAt: string };

/** One incident row to insert or update, with what the engine derived. */
export type IncidentWrite = {
  id: string;
  insert: boolean;
  title: string;
  /** Engine lifecycle: open, resolving (resolves at resolvesAt), resolved. */
  lifecycle: 'open' | 'resolving' | 'resolved' | 'closed';
  resolvesAt: string | null;
  resolvedAt: string | null;
  severity: Severity;
  urgency: number;
  openedAt: string;
  lastAlertAt: string;
  alertCount: number;
  cis: string[];
  rootCause: unknown;
  rootCauseCi: string | null;
  template: string | null;
  signature: string | null;
  blastRadius: number;
};

// The incident rows of a batch, as one JSON parameter: what both statements below read.
const INCIDENT_ROWS = `jsonb_to_recordset($1::jsonb) AS x(id bigint, title text, lifecycle text,
  severity text, urgency smallint, opened_at timestamptz, last_alert_at timestamptz,
  resolved_at timestamptz, resolves_at timestamptz, alert_count int, cis text[],
  root_cause jsonb, root_cause_ci text, template text, signature text, blast_radius int)`;

const INSERT_INCIDENTS = `
-- Incidents a batch opened. Params: JSON array of rows, the priority matrix (impact × urgency).
INSERT INTO incidents (id, title, state, severity, urgency, priority, opened_at, last_alert_at,
  resolved_at, resolves_at, alert_count, cis, primary_ci, root_cause, root_cause_ci, template,
  signature, blast_radius)
OVERRIDING SYSTEM VALUE
SELECT x.id, x.title,
  CASE WHEN x.lifecycle = 'resolved' THEN 'resolved' ELSE 'new' END, x.severity, x.urgency,
  ($2::jsonb -> 1 ->> (x.urgency - 1))::smallint, x.opened_at, x.last_alert_at,
  CASE WHEN x.lifecycle = 'resolved' THEN x.resolved_at END, x.resolves_at, x.alert_count,
  x.cis, x.root_cause_ci, x.root_cause, x.root_cause_ci, x.template, x.signature, x.blast_radius
FROM ${INCIDENT_ROWS}`;

// A person's states are theirs: closed and canceled incidents are never touched; the correlator
// resolves only open ones and reopens only resolved ones; the title is the correlator's only
// while the correlator made the incident.
const UPDATE_INCIDENTS = `
-- Incidents a batch changed. Params: JSON array of rows, the priority matrix.
UPDATE incidents i SET
  title = CASE WHEN i.created_by = 'correlator' THEN x.title ELSE i.title END,
  severity = x.severity, urgency = x.urgency,
  priority = ($2::jsonb -> (i.impact - 1) ->> (x.urgency - 1))::smallint,
  state = CASE
    WHEN x.lifecycle = 'resolved' AND i.state IN ('new', 'in_progress', 'on_hold') THEN 'resolved'
    WHEN x.lifecycle IN ('open', 'resolving') AND i.state = 'resolved' THEN 'in_progress'
    ELSE i.state END,
  resolved_at = CASE
    WHEN x.lifecycle = 'resolved' AND i.state IN ('new', 'in_progress', 'on_hold')
      THEN x.resolved_at
    WHEN x.lifecycle IN ('open', 'resolving') AND i.state = 'resolved' THEN NULL
    ELSE i.resolved_at END,
  reopen_count = i.reopen_count
    + CASE WHEN x.lifecycle IN ('open', 'resolving') AND i.state = 'resolved' THEN 1 ELSE 0 END,
  resolves_at = x.resolves_at,
  opened_at = least(i.opened_at, x.opened_at), last_alert_at = x.last_alert_at,
  alert_count = x.alert_count, cis = x.cis, primary_ci = coalesce(x.root_cause_ci, i.primary_ci),
  root_cause = x.root_cause, root_cause_ci = x.root_cause_ci, template = x.template,
  signature = x.signature, blast_radius = x.blast_radius,
  version = i.version + 1, updated_at = now()
FROM ${INCIDENT_ROWS}
WHERE i.id = x.id AND i.state NOT IN ('closed', 'canceled')`;

const MERGE_INCIDENTS = `
-- Incidents the correlator merged into another, canceled with a note. Params: JSON array of
-- { from, into }.
UPDATE incidents i SET state = 'canceled', merged_into = x."into", resolves_at = NULL,
  alert_count = 0, resolution_code = 'duplicate',
  resolution_notes = 'Merged into ' || t.number || ' by the correlator: one alert bridged both.',
  version = i.version + 1, updated_at = now()
FROM jsonb_to_recordset($1::jsonb) AS x("from" bigint, "into" bigint)
JOIN incidents t ON t.id = x."into"
WHERE i.id = x."from" AND i.state NOT IN ('closed', 'canceled')`;

/** Everything one correlation batch changed. */
export type CorrelationWrite = {
  incidents: IncidentWrite[];
  merged: { from: string; into: string }[];
  alerts: AlertWrite[];
  /** Alerts whose only change is more deliveries (see TOUCH_ALERTS). */
  touched: AlertTouch[];
  inboxIds: string[];
  /** The latest event time the engine has seen, for a successor to restore it at (null: none). */
  latestEventAt: string | null;
  /** The priority matrix, rows by impact, columns by urgency. */
  priorityMatrix: readonly (readonly number[])[];
};

/**
 * Opens a correlation batch's transaction: the audit trail's actor, and an asynchronous commit.
 * What a batch writes is a function of inbox rows that are already durable, and it marks them
 * processed in the same transaction, so a commit that a PostgreSQL crash loses takes its marks
 * with it and the rows are correlated again: waiting for the WAL flush buys nothing here.
 * (Ingest's commit, which the 202 stands on, stays synchronous.)
 */
export async function beginCorrelationBatch(q: Queryable): Promise<void> {
  await q.query(
    `-- A correlation batch's actor and commit mode. Params: none.
SELECT set_config('tocsin.actor', 'correlator', true), set_config('tocsin.action', '', true),
  set_config('synchronous_commit', 'off', true)`,
  );
}

/** Writes a batch's effects in the caller's transaction: incidents first, then alerts. */
export async function writeCorrelation(q: Queryable, write: CorrelationWrite): Promise<void> {
  const matrix = JSON.stringify(write.priorityMatrix);
  const incidentRow = (i: IncidentWrite) => ({
    id: i.id,
    title: i.title,
    lifecycle: i.lifecycle,
    severity: i.severity,
    urgency: i.urgency,
    opened_at: i.openedAt,
    last_alert_at: i.lastAlertAt,
    resolved_at: i.resolvedAt,
    resolves_at: i.resolvesAt,
    alert_count: i.alertCount,
    cis: i.cis,
    root_cause: i.rootCause,
    root_cause_ci: i.rootCauseCi,
    template: i.template,
    signature: i.signature,
    blast_radius: i.blastRadius,
  });
  const inserted = write.incidents.filter((i) => i.insert).map(incidentRow);
  const updated = write.incidents.filter((i) => !i.insert).map(incidentRow);
  if (inserted.length > 0) await q.query(INSERT_INCIDENTS, [toJsonb(inserted), matrix]);
  if (updated.length > 0) await q.query(UPDATE_INCIDENTS, [toJsonb(updated), matrix]);
  const alertRow = (a: AlertWrite) => ({
    id: a.id,
    fingerprint: a.fingerprint,
    episode: a.episode,
    incident_id: a.incidentId,
    severity: a.severity,
    status: a.status,
    starts_at: a.startsAt,
    ends_at: a.endsAt,
    count: a.count,
    template: a.template,
    explanation: a.explanation,
    flapping: a.flapping,
    changes: a.changes,
    recent_changes: a.recentChanges,
    expired_at: a.expiredAt,
    pinned: a.pinned,
    content: a.content,
  });
  const newAlerts = write.alerts.filter((a) => a.insert).map(alertRow);
  const changed = write.alerts.filter((a) => !a.insert).map(alertRow);
  if (newAlerts.length > 0) await q.query(INSERT_ALERTS, [toJsonb(newAlerts)]);
  if (changed.length > 0) await q.query(UPDATE_ALERTS, [toJsonb(changed)]);
  if (write.touched.length > 0)
    await q.query(TOUCH_ALERTS, [
      JSON.stringify(
        write.touched.map((t) => ({ id: t.id, count: t.count, received_at: t.receivedAt })),
      ),
    ]);
  if (write.merged.length > 0) await q.query(MERGE_INCIDENTS, [toJsonb(write.merged)]);
  if (write.inboxIds.length > 0) await markProcessed(q, write.inboxIds);
  if (write.latestEventAt !== null)
    await q.query(
      `-- Where the correlator's event time stands after a batch. Params: latest event time.
UPDATE correlator_state SET latest_event_at = $1, updated_at = now()`,
      [write.latestEventAt],
    );
}

/** What the correlator found for one incident: a suspected change and a known error. */
export type SuspectsWrite = {
  id: string;
  changeId: string | null;
  changeReason: string | null;
  knownErrorId: string | null;
  workaround: string | null;
  knownErrorReason: string | null;
};

const LINK_SUSPECTS = `
-- Link suspected changes and known errors to incidents, with why; a link a person made (or one
-- already there) stays. Params: JSON array of rows.
UPDATE incidents i SET
  suspected_change_id = coalesce(i.suspected_change_id, x.change_id),
  known_error_id = coalesce(i.known_error_id, x.known_error_id),
  workaround = coalesce(i.workaround, x.workaround),
  correlation_notes = i.correlation_notes
    || CASE WHEN i.suspected_change_id IS NULL AND x.change_id IS NOT NULL
      THEN jsonb_build_object('suspectedChange', x.change_reason) ELSE '{}' END
    || CASE WHEN i.known_error_id IS NULL AND x.known_error_id IS NOT NULL
      THEN jsonb_build_object('knownError', x.known_error_reason) ELSE '{}' END,
  version = i.version + 1, updated_at = now()
FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, change_id bigint, change_reason text,
  known_error_id bigint, workaround text, known_error_reason text)
WHERE i.id = x.id AND i.state NOT IN ('closed', 'canceled')
  AND ((i.suspected_change_id IS NULL AND x.change_id IS NOT NULL)
    OR (i.known_error_id IS NULL AND x.known_error_id IS NOT NULL))`;

/** Stores suspected changes and known errors found for incidents (first finding wins). */
export async function linkSuspects(q: Queryable, rows: SuspectsWrite[]): Promise<void> {
  const found = rows.filter((r) => r.changeId !== null || r.knownErrorId !== null);
  if (found.length === 0) return;
  await q.query(LINK_SUSPECTS, [
    toJsonb(
      found.map((r) => ({
        id: r.id,
        change_id: r.changeId,
        change_reason: r.changeReason,
        known_error_id: r.knownErrorId,
        workaround: r.workaround,
        known_error_reason: r.knownErrorReason,
      })),
    ),
  ]);
}

/** An accepted alert as the correlator took it, for an export to replay. */
export type CorrelatedDelivery = {
  id: string;
  processedAt: string;
  receivedAt: string;
  alert: Alert;
};

const CORRELATED = `
-- Accepted alerts in the order the correlator took them, received within a span, a page after a
-- position. Params: received from, received until, after processed_at, after id, limit.
SELECT id, processed_at, processed_at::text AS position, received_at, alert FROM alert_inbox
WHERE processed_at IS NOT NULL AND received_at >= $1 AND received_at < $2
  AND (processed_at, id) > ($3::timestamptz, $4::bigint)
ORDER BY processed_at, id LIMIT $5`;

/** Pages through the correlated inbox in the correlator's order. */
export async function* correlatedDeliveries(
  q: Queryable,
  span: { from: string; until: string },
  pageSize = 5000,
): AsyncGenerator<CorrelatedDelivery> {
  let after = { processedAt: '-infinity', id: '0' };
  for (;;) {
    const { rows } = await q.query<{
      id: string;
      processed_at: string;
      position: string;
      received_at: string;
      alert: Alert;
    }>(CORRELATED, [span.from, span.until, after.processedAt, after.id, pageSize]);
    for (const r of rows)
      yield { id: r.id, processedAt: r.processed_at, receivedAt: r.received_at, alert: r.alert };
    if (rows.length < pageSize) return;
    const last = rows.at(-1)!;
    // The exact stored time (microseconds), not the millisecond ISO string of the mapper.
    after = { processedAt: last.position, id: last.id };
  }
}
