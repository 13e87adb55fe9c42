import type { Pool } from '../services/store/db.ts';
import { lockKeys, withTransaction } from '../services/store/db.ts';
import { insertAlert, lockAlertByFingerprint, updateAlert } from '../services/store/alerts.ts';
import { claimInbox, markProcessed, type InboxRow } from '../services/store/inbox.ts';
import {
  getIncident,
  incidentAlertSummary,
  insertIncident,
  lockOpenIncidentOnCi,
  updateIncident,
  type IncidentRecord,
} from '../services/store/incidents.ts';
import { enqueueOutbox } from '../services/store/outbox.ts';
import { setActor } from '../services/store/tickets.ts';
import type { Queryable } from '../services/store/db.ts';
import { worstSeverity, type Alert, type Severity } from './alert.ts';
import { matrixPriority, type PriorityMatrix } from '../services/store/workflows.ts';

/** Settings of the placeholder correlation rule. */
export type CorrelationSettings = { windowMs: number; priorityMatrix: PriorityMatrix };

/** What one correlation batch did. */
export type CorrelationResult = {
  processed: number;
  /** Receipt times of the processed rows, for the latency histogram. */
  receivedAt: string[];
  incidentIds: string[];
};

const openStates = new Set(['new', 'in_progress', 'on_hold']);

// How urgent an incident is by its worst firing alert; its impact is a person's call (default 2).
const urgencyBySeverity: Record<Severity, number> = {
  critical: 1,
  major: 1,
  minor: 2,
  warning: 2,
  info: 3,
};

/**
 * Correlates a batch of accepted alerts in one transaction: deduplicates each by fingerprint and
 * attaches it to the open incident on the same CI within the window, or opens one. Placeholder
 * rule of the walking skeleton; the correlation engine replaces it. Rows already correlated (or
 * held by another worker) are skipped, so a job may safely run twice.
 */
export async function correlateBatch(
  pool: Pool,
  which: { inboxIds?: string[]; deliveryIds?: string[] },
  settings: CorrelationSettings,
): Promise<CorrelationResult> {
  return withTransaction(pool, async (tx) => {
    const rows = await claimInbox(tx, which);
    if (rows.length === 0) return { processed: 0, receivedAt: [], incidentIds: [] };
    await setActor(tx, 'correlator');
    await lockKeys(
      tx,
      rows.flatMap((r) => [
        `fp:${r.alert.fingerprint}`,
        ...(r.alert.ci ? [`ci:${r.alert.ci}`] : []),
      ]),
    );
    const touched = new Map<string, string>();
    const alertIds: string[] = [];
    for (const row of rows) {
      const { alertId, incidentId } = await applyAlert(tx, row, settings);
      alertIds.push(alertId);
      if (incidentId) {
        const prev = touched.get(incidentId);
        touched.set(incidentId, prev && prev > row.alert.startsAt ? prev : row.alert.startsAt);
      }
    }
    for (const [incidentId, lastAlertAt] of touched)
      await refreshIncident(tx, incidentId, lastAlertAt, settings);
    await enqueueOutbox(tx, 'alert', alertIds);
    await enqueueOutbox(tx, 'incident', [...touched.keys()]);
    await markProcessed(
      tx,
      rows.map((r) => r.id),
    );
    return {
      processed: rows.length,
      receivedAt: rows.map((r) => r.receivedAt),
      incidentIds: [...touched.keys()],
    };
  });
}

async function applyAlert(
  tx: Queryable,
  { alert, receivedAt, deliveryId }: InboxRow,
  settings: CorrelationSettings,
): Promise<{ alertId: string; incidentId: string | null }> {
  const existing = await lockAlertByFingerprint(tx, alert.fingerprint);
  let incidentId = existing?.incidentId ?? null;
  if (incidentId) {
    const current = await getIncident(tx, incidentId);
    if (!current || !openStates.has(current.state)) incidentId = null;
  }
  if (!incidentId && alert.status === 'firing')
    incidentId = (await findOrOpen(tx, alert, settings)).id;
  const stored = existing
    ? await updateAlert(tx, existing.id, alert, incidentId ?? existing.incidentId, {
        receivedAt,
        deliveryId,
      })
    : await insertAlert(tx, alert, incidentId, { receivedAt, deliveryId });
  return { alertId: stored.id, incidentId: stored.incidentId };
}

async function findOrOpen(
  tx: Queryable,
  alert: Alert,
  settings: CorrelationSettings,
): Promise<IncidentRecord> {
  if (alert.ci) {
    const since = new Date(Date.parse(alert.startsAt) - settings.windowMs).toISOString();
    const open = await lockOpenIncidentOnCi(tx, alert.ci, since);
    if (open) return open;
  }
  return insertIncident(tx, {
    title: alert.ci ? `${alert.title} on ${alert.ci}` : alert.title,
    severity: alert.severity,
    urgency: urgencyBySeverity[alert.severity],
    // A new incident has the default impact, 2.
    priority: matrixPriority(settings.priorityMatrix, 2, urgencyBySeverity[alert.severity]),
    openedAt: alert.startsAt,
    cis: alert.ci ? [alert.ci] : [],
  });
}

/** Re-derives an incident's state and severity from its alerts. */
async function refreshIncident(
  tx: Queryable,
  id: string,
  lastAlertAt: string,
  settings: CorrelationSettings,
): Promise<void> {
  const incident = await getIncident(tx, id);
  if (!incident) return;
  const summary = await incidentAlertSummary(tx, id);
  const severity = summary.severities.reduce<Severity>(
    (worst, s) => worstSeverity(worst, s),
    summary.severities[0] ?? incident.severity,
  );
  const resolved = summary.firing === 0;
  await updateIncident(tx, {
    id,
    state: resolved ? 'resolved' : incident.state === 'resolved' ? 'in_progress' : incident.state,
    severity,
    urgency: urgencyBySeverity[severity],
    priority: matrixPriority(settings.priorityMatrix, incident.impact, urgencyBySeverity[severity]),
    lastAlertAt: lastAlertAt > incident.lastAlertAt ? lastAlertAt : incident.lastAlertAt,
    resolvedAt: resolved ? (incident.resolvedAt ?? new Date().toISOString()) : null,
    cis: incident.cis,
  });
}
