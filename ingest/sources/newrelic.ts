import { z } from 'zod';
import type { Severity } from '../../correlator/alert.ts';
import {
  mapSeverity,
  toAlert,
  toLabels,
  toTimestamp,
  validate,
  type Normalized,
  type Source,
} from '../normalize.ts';

const text = z.string().nullish();
const id = z.union([z.string(), z.number()]).nullish();
const names = z.array(z.string()).nullish();
const time = z.union([z.number(), z.string()]).nullish();

// The workflow webhook's default payload, plus fields a custom template commonly adds
// (issueId, entitiesData, closedAt...).
const workflowSchema = z.looseObject({
  id,
  issueId: id,
  issueUrl: text,
  issuePageUrl: text,
  title: text,
  description: text,
  priority: text,
  state: z.string(),
  trigger: text,
  impactedEntities: names,
  entitiesData: z.looseObject({ names, ids: z.array(id).nullish() }).nullish(),
  totalIncidents: z.number().nullish(),
  isCorrelated: z.boolean().nullish(),
  createdAt: time,
  updatedAt: time,
  closedAt: time,
  sources: names,
  alertPolicyNames: names,
  alertConditionNames: names,
  workflowName: text,
});

// The legacy (v1) Alerts webhook, which is also the shape of a channel's test notification.
const legacySchema = z.looseObject({
  incident_id: id,
  current_state: z.string(),
  severity: text,
  event_type: text,
  policy_name: text,
  policy_url: text,
  condition_id: id,
  condition_name: text,
  details: text,
  incident_url: text,
  runbook_url: text,
  account_id: id,
  account_name: text,
  timestamp: time,
  targets: z
    .array(
      z.looseObject({
        id,
        name: text,
        link: text,
        product: text,
        type: text,
        labels: z.record(z.string(), z.unknown()).nullish(),
      }),
    )
    .nullish(),
});

/** Workflow issue priority. */
const PRIORITY: Record<string, Severity> = {
  critical: 'critical',
  high: 'major',
  medium: 'minor',
  low: 'warning',
};

/** Legacy incident severity. */
const LEGACY_SEVERITY: Record<string, Severity> = {
  critical: 'critical',
  warning: 'warning',
  info: 'info',
};

const present = (value: string | number | null | undefined): string | undefined =>
  value === null || value === undefined || String(value).trim() === ''
    ? undefined
    : String(value).trim();

const list = (values: readonly string[] | null | undefined): string | undefined =>
  values?.length ? values.join(', ') : undefined;

function normalizeWorkflow(p: z.output<typeof workflowSchema>, receivedAt: Date): Normalized {
  const issueId = present(p.issueId) ?? present(p.id);
  if (!issueId)
    return {
      kind: 'unprocessable',
      detail: 'The payload names no issue: map {{ json issueId }} to "id" (or "issueId").',
      pointer: '/id',
    };
  const state = p.state.trim().toUpperCase();
  const resolved = state === 'CLOSED' || state === 'RESOLVED';
  const entities = p.impactedEntities?.length ? p.impactedEntities : (p.entitiesData?.names ?? []);
  const conditions = list(p.alertConditionNames);
  const policies = list(p.alertPolicyNames);
  const description = [
    present(p.description),
    conditions && `Condition: ${conditions}`,
    policies && `Policy: ${policies}`,
    entities.length > 0 && `Impacted entities: ${entities.join(', ')}`,
    p.totalIncidents != null && `Incidents: ${p.totalIncidents}`,
  ].filter(Boolean);
  const alert = toAlert(
    {
      source: 'newrelic',
      title: present(p.title) ?? conditions,
      description: description.join('\n'),
      severity: mapSeverity(p.priority, PRIORITY),
      status: resolved ? 'resolved' : 'firing',
      ci: entities[0],
      fingerprint: `newrelic:${issueId}`,
      labels: toLabels({
        issue_id: issueId,
        issue_url: present(p.issueUrl) ?? present(p.issuePageUrl),
        priority: present(p.priority),
        state,
        policy: policies,
        condition: conditions,
        impacted_entities: list(entities),
        workflow: present(p.workflowName),
        sources: list(p.sources),
      }),
      startsAt: toTimestamp(p.createdAt),
      endsAt: resolved ? toTimestamp(p.closedAt ?? p.updatedAt) : null,
    },
    receivedAt,
  );
  return { kind: 'alerts', alerts: [alert] };
}

function normalizeLegacy(p: z.output<typeof legacySchema>, receivedAt: Date): Normalized {
  const incidentId = present(p.incident_id);
  if (!incidentId)
    return {
      kind: 'unprocessable',
      detail: 'The payload names no incident: add "incident_id": "$INCIDENT_ID".',
      pointer: '/incident_id',
    };
  const state = p.current_state.trim().toLowerCase();
  const resolved = state === 'closed';
  const target = p.targets?.[0];
  const at = toTimestamp(p.timestamp);
  const alert = toAlert(
    {
      source: 'newrelic',
      title: present(p.condition_name) ?? present(p.policy_name),
      description: present(p.details),
      severity: mapSeverity(p.severity, LEGACY_SEVERITY),
      status: resolved ? 'resolved' : 'firing',
      ci: present(target?.name),
      fingerprint: `newrelic:${incidentId}`,
      labels: toLabels(target?.labels, {
        incident_id: incidentId,
        incident_url: present(p.incident_url),
        state,
        policy: present(p.policy_name),
        condition: present(p.condition_name),
        condition_id: present(p.condition_id),
        account_id: present(p.account_id),
        account_name: present(p.account_name),
        runbook_url: present(p.runbook_url),
        target_type: present(target?.type),
        target_product: present(target?.product),
        target_link: present(target?.link),
      }),
      startsAt: at,
      endsAt: resolved ? at : null,
    },
    receivedAt,
  );
  return { kind: 'alerts', alerts: [alert] };
}

/**
 * New Relic alert notifications: the workflow webhook's default payload (an issue) and the legacy
 * v1 incident webhook. Keyed by issue (or incident) id, so the CLOSED notification resolves it.
 */
export const newrelic: Source = {
  normalize({ body, receivedAt }): Normalized {
    if (typeof body === 'object' && body !== null && 'current_state' in body) {
      const legacy = validate(legacySchema, body);
      return legacy.ok ? normalizeLegacy(legacy.value, receivedAt) : legacy.result;
    }
    const workflow = validate(workflowSchema, body);
    return workflow.ok ? normalizeWorkflow(workflow.value, receivedAt) : workflow.result;
  },
};
