import { z } from 'zod';
import type { Severity } from '../../correlator/alert.ts';
import {
  invalidField,
  mapSeverity,
  toAlert,
  toLabels,
  toTimestamp,
  validate,
  type Normalized,
  type NormalizeInput,
  type Source,
} from '../normalize.ts';

const SOURCE = 'pagerduty';

/** Events API v2 `payload.severity`. */
const EVENT_SEVERITY: Record<string, Severity> = {
  critical: 'critical',
  error: 'major',
  warning: 'warning',
  info: 'info',
};

/** Webhook v3: the incident's priority by its (default) name, else its urgency. */
const PRIORITY_SEVERITY: Record<string, Severity> = {
  p1: 'critical',
  p2: 'major',
  p3: 'minor',
  p4: 'warning',
  p5: 'info',
};
const URGENCY_SEVERITY: Record<string, Severity> = { high: 'major', low: 'warning' };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const text = z.string().nullish();

const eventSchema = z.looseObject({
  event_action: z.enum(['trigger', 'acknowledge', 'resolve']),
  dedup_key: z.string().max(255).nullish(),
});

const linkSchema = z.looseObject({ href: z.string().min(1), text: text });

const triggerSchema = z.looseObject({
  payload: z.looseObject({
    summary: z.string().trim().min(1).max(1024),
    source: text,
    severity: text,
    timestamp: text,
    component: text,
    group: text,
    class: text,
    custom_details: z.unknown().optional(),
  }),
  // Links only decorate the description: a malformed list is dropped, not refused.
  links: z.array(linkSchema).nullish().catch(undefined),
  client: text,
  client_url: text,
});

const referenceSchema = z.looseObject({ id: text, summary: text, html_url: text });

const webhookSchema = z.looseObject({
  event: z.looseObject({
    id: z.string().min(1),
    event_type: z.string().min(1),
    resource_type: text,
    occurred_at: text,
    data: z.looseObject({ type: text }).nullish(),
  }),
});

const incidentSchema = z.looseObject({
  id: z.string().min(1),
  type: z.literal('incident'),
  title: text,
  status: text,
  html_url: text,
  number: z.number().nullish(),
  incident_key: text,
  created_at: text,
  urgency: text,
  service: referenceSchema.nullish(),
  escalation_policy: referenceSchema.nullish(),
  priority: referenceSchema.nullish(),
  teams: z.array(referenceSchema).nullish(),
  assignees: z.array(referenceSchema).nullish(),
});

/** The longer text of a trigger: its custom details, one per line, then its links. */
function describeTrigger(details: unknown, links: readonly z.output<typeof linkSchema>[]) {
  const parts: string[] = [];
  if (typeof details === 'string') parts.push(details);
  else if (isRecord(details))
    parts.push(
      Object.entries(details)
        .filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join('\n'),
    );
  else if (details !== null && details !== undefined) parts.push(JSON.stringify(details));
  parts.push(links.map((l) => (l.text ? `${l.text} (${l.href})` : l.href)).join('\n'));
  return parts.filter((p) => p.trim()).join('\n\n') || null;
}

/** An Events API v2 body: what a monitoring tool sends to PagerDuty, sent to Tocsin instead. */
function normalizeEvent(body: unknown, receivedAt: Date): Normalized {
  const event = validate(eventSchema, body);
  if (!event.ok) return event.result;
  const action = event.value.event_action;
  const dedupKey = event.value.dedup_key?.trim() || null;
  if (action !== 'trigger') {
    if (!dedupKey)
      return invalidField(['dedup_key'], `an ${action} event names the alert by its dedup_key`);
    // Acknowledge and resolve carry no payload: only the state changes, the stored text stays.
    const alert = toAlert(
      {
        title: dedupKey,
        status: action === 'resolve' ? 'resolved' : 'firing',
        source: SOURCE,
        fingerprint: `${SOURCE}:${dedupKey}`,
        labels: { pagerduty_dedup_key: dedupKey, pagerduty_event_action: action },
        partial: true,
      },
      receivedAt,
    );
    return { kind: 'alerts', alerts: [alert] };
  }
  const trigger = validate(triggerSchema, body);
  if (!trigger.ok) return trigger.result;
  const { payload, links, client, client_url } = trigger.value;
  const alert = toAlert(
    {
      title: payload.summary,
      description: describeTrigger(payload.custom_details, links ?? []),
      severity: mapSeverity(payload.severity, EVENT_SEVERITY),
      status: 'firing',
      ci: payload.source,
      source: SOURCE,
      // Without a dedup_key PagerDuty makes a new alert each time; Tocsin derives one from
      // summary, source and the labels below, so repeats of one problem collapse.
      fingerprint: dedupKey ? `${SOURCE}:${dedupKey}` : undefined,
      labels: toLabels({
        component: payload.component,
        group: payload.group,
        class: payload.class,
        client,
        client_url,
        pagerduty_dedup_key: dedupKey,
        pagerduty_event_action: 'trigger',
      }),
      startsAt: toTimestamp(payload.timestamp),
    },
    receivedAt,
  );
  return { kind: 'alerts', alerts: [alert] };
}

const summaries = (refs: readonly z.output<typeof referenceSchema>[] | null | undefined) =>
  (refs ?? [])
    .map((r) => r.summary)
    .filter((s): s is string => !!s)
    .join(', ') || null;

/** A V3 webhook: PagerDuty reporting a change to one of its own incidents. */
function normalizeWebhook(body: unknown, receivedAt: Date): Normalized {
  const envelope = validate(webhookSchema, body);
  if (!envelope.ok) return envelope.result;
  const event = envelope.value.event;
  // Notes, responders, status updates and service changes say nothing of the incident's state.
  if (event.data?.type !== 'incident') return { kind: 'alerts', alerts: [], deliveryId: event.id };
  const parsed = validate(incidentSchema, event.data, ['event', 'data']);
  if (!parsed.ok) return parsed.result;
  const incident = parsed.value;
  const resolved = event.event_type === 'incident.resolved' || incident.status === 'resolved';
  const alert = toAlert(
    {
      title: incident.title,
      severity: mapSeverity(
        incident.priority?.summary,
        PRIORITY_SEVERITY,
        mapSeverity(incident.urgency, URGENCY_SEVERITY),
      ),
      status: resolved ? 'resolved' : 'firing',
      service: incident.service?.summary,
      source: SOURCE,
      fingerprint: `${SOURCE}:incident:${incident.id}`,
      labels: toLabels({
        pagerduty_incident_id: incident.id,
        pagerduty_incident_number: incident.number,
        pagerduty_incident_url: incident.html_url,
        pagerduty_incident_key: incident.incident_key,
        pagerduty_status: incident.status,
        pagerduty_urgency: incident.urgency,
        pagerduty_priority: incident.priority?.summary,
        pagerduty_service_id: incident.service?.id,
        pagerduty_escalation_policy: incident.escalation_policy?.summary,
        pagerduty_teams: summaries(incident.teams),
        pagerduty_assignees: summaries(incident.assignees),
        pagerduty_event_type: event.event_type,
      }),
      startsAt: toTimestamp(incident.created_at),
      endsAt: resolved ? toTimestamp(event.occurred_at) : null,
    },
    receivedAt,
  );
  return { kind: 'alerts', alerts: [alert], deliveryId: event.id };
}

/**
 * PagerDuty in both directions, told apart by shape: Events API v2 bodies (trigger,
 * acknowledge, resolve by `dedup_key`) that tools send to PagerDuty, and PagerDuty's own V3
 * webhooks about its incidents (`{event: {event_type, data}}`).
 */
export const pagerduty: Source = {
  normalize({ body, receivedAt }: NormalizeInput): Normalized {
    if (isRecord(body) && isRecord(body.event) && 'event_type' in body.event)
      return normalizeWebhook(body, receivedAt);
    if (isRecord(body) && Array.isArray(body.messages))
      return {
        kind: 'unprocessable',
        detail:
          'This is a V1/V2 webhook, which PagerDuty no longer supports: create a V3 webhook subscription instead.',
        pointer: '/messages',
      };
    if (isRecord(body) && 'service_key' in body && !('event_action' in body))
      return {
        kind: 'unprocessable',
        detail:
          'This is an Events API v1 body (service_key, event_type): send Events API v2 (routing_key, event_action, dedup_key, payload).',
        pointer: '/service_key',
      };
    return normalizeEvent(body, receivedAt);
  },
};
