import type { Alert, AlertStatus, Severity } from '../../correlator/alert.ts';
import { renameRefs, STORED_REF } from '../../correlator/explanation-refs.ts';
import type { Queryable } from './db.ts';
import { decodeCursor, toPage, type Page } from './page.ts';

/** An alert as stored and served: the canonical alert plus its delivery history. */
export type AlertRecord = Alert & {
  id: string;
  incidentId: string | null;
  firstReceivedAt: string;
  lastReceivedAt: string;
  count: number;
  version: number;
  /** The delivery this alert last came in, whose raw body is its original payload. */
  lastDeliveryId: string | null;
  /** Its firing episode: a fingerprint that fires again after it resolved is a new episode. */
  episode: number;
  /** Its message with the variable parts masked, as text similarity compares it. */
  template: string | null;
  /** Why the correlator put it in its incident. */
  explanation: unknown;
  flapping: boolean;
  /** Resolved by its time to live running out, not by its source. */
  expiredAt: string | null;
  /** Put in its incident by a person. */
  pinned: boolean;
};

type AlertRow = {
  id: string;
  fingerprint: string;
  incident_id: string | null;
  ci: string | null;
  title: string;
  description: string | null;
  severity: Severity;
  status: AlertStatus;
  source: string;
  service: string | null;
  labels: Record<string, string>;
  starts_at: string;
  ends_at: string | null;
  first_received_at: string;
  last_received_at: string;
  count: number;
  version: string;
  last_delivery_id: string | null;
  episode: number;
  template: string | null;
  explanation: unknown;
  flapping: boolean;
  expired_at: string | null;
  pinned: boolean;
  /** Read for people only: the numbers of the incidents the explanation names, by id. */
  named_incidents?: Record<string, string> | null;
};

const COLUMNS = `id, fingerprint, incident_id, ci, title, description, severity, status, source,
  service, labels, starts_at, ends_at, first_received_at, last_received_at, count, version, last_delivery_id,
  episode, template, explanation, flapping, expired_at, pinned`;

/**
 * The columns as read for people: beside them, the numbers of the incidents the explanation
 * names. The correlator writes an explanation before the incidents it names have numbers (a new
 * incident's is drawn when its row is inserted, in the same transaction), so it names them by id
 * ("incident 3: same CI db-ledger-2"); people know them by number (INC0001003). The message also
 * quotes what a sender wrote (a CI "incident 99999999999999999999" not in the CMDB): at most 18
 * digits are read as an id, which always fit a bigint; a longer number failed every read of the
 * alert, and every page of the list that held it.
 */
const READ_COLUMNS = `${COLUMNS},
  (SELECT jsonb_object_agg(i.id, i.number) FROM incidents i
   WHERE explanation ? 'message' AND i.id = ANY (ARRAY(
     SELECT m[1]::bigint
     FROM regexp_matches(explanation ->> 'message', 'incident (\\d{1,18})\\M', 'g') AS m
   ))) AS named_incidents`;

function toAlert(r: AlertRow): AlertRecord {
  return {
    id: r.id,
    fingerprint: r.fingerprint,
    incidentId: r.incident_id,
    ci: r.ci,
    title: r.title,
    description: r.description,
    severity: r.severity,
    status: r.status,
    source: r.source,
    service: r.service,
    labels: r.labels,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    firstReceivedAt: r.first_received_at,
    lastReceivedAt: r.last_received_at,
    count: r.count,
    version: Number(r.version),
    lastDeliveryId: r.last_delivery_id,
    episode: r.episode,
    template: r.template,
    explanation: nameIncidents(r.explanation, r.named_incidents),
    flapping: r.flapping,
    expiredAt: r.expired_at,
    pinned: r.pinned,
  };
}

/**
 * An explanation as people read it: each incident its message names by id is named by its number,
 * and `incidents` lists them (`id`, `number`, and `at`, where the message names it) for a client
 * to link. The correlator stores where its message names incidents (`incidentRefs`): the message
 * also quotes what senders wrote (a CI "incident 42" not in the CMDB is no incident). An
 * explanation stored before it did is read by the words "incident <id>". An incident no longer
 * stored keeps its id, unlinked. Without `numbers` (not read for people) only `incidentRefs`,
 * internal, is dropped. Exported for its tests.
 */
export function nameIncidents(
  explanation: unknown,
  numbers: Record<string, string> | null | undefined,
): unknown {
  if (explanation === null || typeof explanation !== 'object') return explanation;
  const { incidentRefs, ...rest } = explanation as { message?: unknown; incidentRefs?: unknown };
  const { message } = rest;
  if (typeof message !== 'string' || !numbers) return rest;
  const refs =
    'incidentRefs' in explanation
      ? (Array.isArray(incidentRefs) ? incidentRefs : []).filter((at): at is number =>
          Number.isInteger(at),
        )
      : [...message.matchAll(/\bincident \d+\b/g)].map((m) => m.index);
  const named = new Map<string, { id: string; number: string; at: number[] }>();
  const text = renameRefs(message, refs, STORED_REF, (id) => `incident ${numbers[id] ?? id}`);
  text.keys.forEach((id, i) => {
    const number = numbers[id];
    if (number === undefined) return;
    const entry = named.get(id) ?? { id, number, at: [] };
    entry.at.push(text.refs[i]!);
    named.set(id, entry);
  });
  return { ...rest, message: text.message, incidents: [...named.values()] };
}

/** Reads one alert by id. */
export async function getAlert(q: Queryable, id: string): Promise<AlertRecord | null> {
  const { rows } = await q.query<AlertRow>(
    `-- One alert. Params: id.\nSELECT ${READ_COLUMNS} FROM alerts WHERE id = $1`,
    [id],
  );
  return rows[0] ? toAlert(rows[0]) : null;
}

/** Reads alerts by id, for the search projection. */
export async function getAlerts(q: Queryable, ids: string[]): Promise<AlertRecord[]> {
  const { rows } = await q.query<AlertRow>(
    `-- Alerts by id. Params: ids.\nSELECT ${COLUMNS} FROM alerts WHERE id = ANY($1::bigint[])`,
    [ids],
  );
  return rows.map(toAlert);
}

/** Filters of the alert list. */
export type AlertFilter = {
  incidentId?: string | undefined;
  fingerprint?: string | undefined;
  status?: AlertStatus | undefined;
};

/**
 * Lists alerts, newest first, by keyset on id. Only the filters given are in the statement: a
 * `($n IS NULL OR column = $n)` condition hid them from the planner, which then walked the whole
 * table backwards on its primary key looking for one fingerprint (272 ms at 60,000 alerts, for
 * each poll of an alert not yet correlated). A fingerprint or an incident is looked up through
 * its own index first (the OFFSET 0 keeps the planner from trading it for that backward walk
 * when its statistics are stale, as they are after a burst until the table is analyzed), then
 * its alerts are sorted.
 */
export async function listAlerts(
  q: Queryable,
  filter: AlertFilter,
  limit: number,
  cursor: string | null,
): Promise<Page<AlertRecord>> {
  const values: unknown[] = [];
  const where: string[] = [];
  const param = (value: unknown) => `$${values.push(value)}`;
  if (filter.fingerprint !== undefined) where.push(`fingerprint = ${param(filter.fingerprint)}`);
  if (filter.incidentId !== undefined) where.push(`incident_id = ${param(filter.incidentId)}`);
  if (filter.status !== undefined) where.push(`status = ${param(filter.status)}`);
  if (cursor !== null) where.push(`id < ${param(String(decodeCursor(cursor)))}`);
  const condition = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  const selective = filter.fingerprint !== undefined || filter.incidentId !== undefined;
  const source = selective
    ? `(SELECT * FROM alerts ${condition} OFFSET 0) AS alerts`
    : `alerts ${condition}`;
  const { rows } = await q.query<AlertRow>(
    `-- A page of alerts, newest first. Params: the filters given (fingerprint, incident id,
-- status, after id, in that order), limit.
SELECT ${READ_COLUMNS} FROM ${source}
ORDER BY id DESC LIMIT ${param(limit + 1)}`,
    values,
  );
  return toPage(rows, limit, toAlert, (r) => r.id);
}

/** Stores the first delivery of a fingerprint. */
export async function insertAlert(
  q: Queryable,
  alert: Alert,
  incidentId: string | null,
  delivery: { receivedAt: string; deliveryId: string | null },
): Promise<AlertRecord> {
  const { rows } = await q.query<AlertRow>(
    `-- First delivery of a fingerprint.
-- Params: the alert's fields, incident id, received at, delivery id.
INSERT INTO alerts (fingerprint, incident_id, ci, title, description, severity, status, source,
  service, labels, starts_at, ends_at, first_received_at, last_received_at, last_delivery_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)
RETURNING ${COLUMNS}`,
    [
      alert.fingerprint,
      incidentId,
      alert.ci,
      alert.title,
      alert.description,
      alert.severity,
      alert.status,
      alert.source,
      alert.service,
      JSON.stringify(alert.labels),
      alert.startsAt,
      alert.endsAt,
      delivery.receivedAt,
      delivery.deliveryId,
    ],
  );
  return toAlert(rows[0]!);
}
