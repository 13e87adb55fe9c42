import { z } from 'zod';
import type { Alert, Severity } from '../../correlator/alert.ts';
import {
  mapSeverity,
  toAlert,
  toLabels,
  toTimestamp,
  validate,
  type Normalized,
  type NormalizeInput,
  type Source,
} from '../normalize.ts';

const SOURCE = 'sentry';

const LEVEL_SEVERITY: Record<string, Severity> = {
  fatal: 'critical',
  error: 'major',
  warning: 'warning',
  info: 'info',
  debug: 'info',
};

/** Issue states and actions after which nobody needs to look at the issue. */
const CLOSED = new Set(['resolved', 'ignored', 'archived']);

/** Integration-platform resources that are alert-rule actions, not issue subscriptions. */
const ALERT_RULE_RESOURCES = new Set(['event_alert', 'metric_alert', 'activity_alert']);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const text = z.string().nullish();
const id = z.union([z.string().trim().min(1), z.number().int()]).transform(String);

const issueSchema = z.looseObject({
  action: z.string().trim().min(1),
  data: z.looseObject({
    issue: z.looseObject({
      id,
      title: text,
      culprit: text,
      level: text,
      status: text,
      substatus: text,
      shortId: text,
      permalink: text,
      web_url: text,
      firstSeen: text,
      platform: text,
      project: z.looseObject({ slug: text, name: text }).nullish(),
      assignedTo: z.looseObject({ name: text, email: text }).nullish(),
    }),
  }),
});

const legacySchema = z.looseObject({
  id,
  project: text,
  project_slug: text,
  message: text,
  culprit: text,
  url: text,
  level: text,
  logger: text,
  event: z
    .looseObject({
      event_id: text,
      title: text,
      metadata: z.looseObject({ title: text }).nullish(),
      // Pairs, [["browser", "Chrome 28.0"], ...]: read leniently below.
      tags: z.array(z.unknown()).nullish(),
      datetime: text,
      timestamp: z.union([z.number(), z.string()]).nullish(),
      received: z.union([z.number(), z.string()]).nullish(),
    })
    .nullish(),
});

/** Sentry's event tags, as `[key, value]` pairs or `{key, value}` objects. */
function tagLabels(tags: readonly unknown[]): Record<string, string> {
  const entries = new Map<string, unknown>();
  for (const tag of tags) {
    if (Array.isArray(tag) && typeof tag[0] === 'string') entries.set(tag[0], tag[1]);
    else if (isRecord(tag) && typeof tag.key === 'string') entries.set(tag.key, tag.value);
  }
  return toLabels(Object.fromEntries(entries));
}

// Request-ID is a fresh UUID per sending attempt: it catches a replayed request, not a retry.
const delivered = (alert: Alert, deliveryId: string | null | undefined): Normalized =>
  deliveryId?.trim()
    ? { kind: 'alerts', alerts: [alert], deliveryId: deliveryId.trim() }
    : { kind: 'alerts', alerts: [alert] };

/** An integration-platform issue webhook: the issue was created or changed state. */
function normalizeIssue(body: unknown, input: NormalizeInput): Normalized {
  const parsed = validate(issueSchema, body);
  if (!parsed.ok) return parsed.result;
  const { action, data } = parsed.value;
  const issue = data.issue;
  // The issue's own status wins: an issue assigned after it was resolved stays resolved.
  const state = issue.status?.toLowerCase() || action.toLowerCase();
  const alert = toAlert(
    {
      title: issue.title,
      description: issue.culprit,
      severity: mapSeverity(issue.level, LEVEL_SEVERITY),
      status: CLOSED.has(state) ? 'resolved' : 'firing',
      ci: issue.project?.slug,
      source: SOURCE,
      fingerprint: `${SOURCE}:issue:${issue.id}`,
      labels: toLabels({
        sentry_issue_id: issue.id,
        sentry_short_id: issue.shortId,
        sentry_project: issue.project?.slug,
        sentry_issue_url: issue.web_url || issue.permalink,
        sentry_level: issue.level,
        sentry_status: issue.status,
        sentry_substatus: issue.substatus,
        sentry_platform: issue.platform,
        sentry_assignee: issue.assignedTo?.name || issue.assignedTo?.email,
        sentry_action: action,
      }),
      startsAt: toTimestamp(issue.firstSeen),
    },
    input.receivedAt,
  );
  return delivered(alert, input.header('Request-ID'));
}

/** The legacy WebHooks plugin: one event of an issue that an alert rule fired on. */
function normalizeLegacy(body: unknown, input: NormalizeInput): Normalized {
  const parsed = validate(legacySchema, body);
  if (!parsed.ok) return parsed.result;
  const p = parsed.value;
  const event = p.event;
  const title = event?.title || event?.metadata?.title || p.message || p.culprit;
  const alert = toAlert(
    {
      title,
      description: [p.message !== title ? p.message : null, p.culprit]
        .filter((line) => line?.trim())
        .join('\n'),
      severity: mapSeverity(p.level, LEVEL_SEVERITY),
      status: 'firing',
      ci: p.project_slug || p.project,
      source: SOURCE,
      fingerprint: `${SOURCE}:issue:${p.id}`,
      labels: toLabels(tagLabels(event?.tags ?? []), {
        sentry_issue_id: p.id,
        sentry_project: p.project_slug || p.project,
        sentry_issue_url: p.url,
        sentry_level: p.level,
        sentry_logger: p.logger,
        sentry_event_id: event?.event_id,
      }),
      startsAt: toTimestamp(event?.datetime ?? event?.timestamp ?? event?.received),
    },
    input.receivedAt,
  );
  return delivered(alert, input.header('Request-ID') || event?.event_id);
}

/**
 * Sentry: integration-platform issue webhooks (`Sentry-Hook-Resource: issue`; created,
 * resolved, assigned, archived, unresolved) and the legacy WebHooks plugin body. Both key the
 * alert by the Sentry issue, so a resolve matches the alert its creation opened.
 */
export const sentry: Source = {
  normalize(input: NormalizeInput): Normalized {
    const { body } = input;
    const resource = input.header('Sentry-Hook-Resource')?.trim().toLowerCase();
    if (resource === 'issue') return normalizeIssue(body, input);
    if (resource && ALERT_RULE_RESOURCES.has(resource))
      return {
        kind: 'unprocessable',
        detail: `Tocsin reads Sentry issue webhooks, not "${resource}" alert-rule actions: subscribe the integration to Issue webhooks (created, resolved, assigned, archived, unresolved) instead.`,
      };
    // Installation, comment and error webhooks say nothing of an issue's state.
    if (resource) return { kind: 'alerts', alerts: [] };
    if (isRecord(body) && isRecord(body.data) && 'issue' in body.data)
      return normalizeIssue(body, input);
    return normalizeLegacy(body, input);
  },
};
