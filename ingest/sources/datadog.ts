import { z } from 'zod';
import type { Severity } from '../../correlator/alert.ts';
import {
  invalidField,
  mapSeverity,
  tagsToLabels,
  toAlert,
  toLabels,
  toTimestamp,
  validate,
  type Normalized,
  type Source,
} from '../normalize.ts';

const text = z.string().nullish();
const id = z.union([z.string(), z.number()]).nullish();
const tags = z.union([z.string(), z.array(z.string())]).nullish();

// Datadog's default payload plus the template variables Tocsin reads; the webhook body is a
// template the user writes, so every field is optional and the tool's other fields are kept.
const payloadSchema = z.looseObject({
  id,
  title: text,
  body: text,
  event_type: text,
  date: id,
  last_updated: id,
  org: z.looseObject({ id, name: text }).nullish(),
  transition: text,
  alert_transition: text,
  aggregate: text,
  aggreg_key: text,
  alert_id: id,
  alert_title: text,
  alert_type: text,
  alert_status: text,
  alert_scope: text,
  alert_metric: text,
  alert_priority: text,
  priority: text,
  hostname: text,
  host: text,
  tags,
});

/** `$ALERT_PRIORITY`: P1 is the most urgent. */
const PRIORITY: Record<string, Severity> = {
  p1: 'critical',
  p2: 'major',
  p3: 'minor',
  p4: 'warning',
  p5: 'info',
};

/** `$ALERT_TYPE`, when the monitor has no priority. */
const ALERT_TYPE: Record<string, Severity> = {
  error: 'major',
  warning: 'warning',
  info: 'info',
  success: 'info',
};

// $ALERT_TRANSITION values, as they also open $EVENT_TITLE ("[Triggered on {host:web-1}] ...").
const TRANSITION =
  /^(re-triggered|triggered|re-warn|warn|re-no data|no data|recovered|resolved|renotify)\b/i;
const PRIORITY_TAG = /^P[1-5]$/i;

/** A template value that Datadog filled in: unfilled `$VARIABLES` and blanks are absent. */
function filled(value: string | number | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = String(value).trim();
  return trimmed && !/^\$[A-Z][A-Z0-9_]*$/.test(trimmed) ? trimmed : undefined;
}

/**
 * Splits the bracketed prefixes Datadog puts in titles (`[P1] [Triggered on {host:a}] CPU`): the
 * transition, priority and group go to their fields, so the title is the same when it recovers.
 */
function parseTitle(title: string | undefined) {
  let rest = title ?? '';
  let transition: string | undefined;
  let priority: string | undefined;
  let group: string | undefined;
  for (let match = /^\[([^\]]*)\]\s*/.exec(rest); match; match = /^\[([^\]]*)\]\s*/.exec(rest)) {
    const inner = match[1]!.trim();
    const word = TRANSITION.exec(inner);
    if (PRIORITY_TAG.test(inner)) priority ??= inner.toUpperCase();
    else if (word) {
      transition ??= word[1];
      group ??= /\bon\s+\{?([^}]*)\}?$/.exec(inner.slice(word[0].length))?.[1]?.trim();
    } else break;
    rest = rest.slice(match[0].length);
  }
  return { title: rest.trim() || undefined, transition, priority, group };
}

/** Tags from `$TAGS` or `$ALERT_SCOPE` ("a:b, c:d"), or a list of them. */
function splitTags(value: string | readonly string[] | null | undefined): string[] {
  const list = typeof value === 'string' ? value.split(',') : (value ?? []);
  return list.map((tag) => tag.trim()).filter((tag) => tag && filled(tag));
}

/** `$EVENT_MSG` wraps its markdown in `%%%` lines. */
function stripMarkdownFence(body: string | undefined): string | undefined {
  return body?.replace(/^%%%\s*\n?/, '').replace(/\n?\s*%%%\s*$/, '');
}

/**
 * Datadog monitor notifications through the Webhooks integration: the default payload and the
 * template variables of the recommended payload (docs/sources.md, Datadog). The alert is keyed
 * by `$AGGREG_KEY`, else by monitor and host, so the recovery resolves what the trigger opened.
 */
export const datadog: Source = {
  normalize({ body, receivedAt }): Normalized {
    const parsed = validate(payloadSchema, body);
    if (!parsed.ok) return parsed.result;
    const p = parsed.value;

    const eventTitle = parseTitle(filled(p.title));
    const alertTitle = parseTitle(filled(p.alert_title));
    const title = eventTitle.title ?? alertTitle.title;
    if (!title)
      return invalidField(['title'], 'required: map $EVENT_TITLE to "title" in the payload');

    const transition = (
      filled(p.transition) ??
      filled(p.alert_transition) ??
      eventTitle.transition ??
      alertTitle.transition
    )?.toLowerCase();
    const alertType = filled(p.alert_type)?.toLowerCase();
    const resolved =
      transition === 'recovered' ||
      transition === 'resolved' ||
      (transition === undefined && alertType === 'success');

    const priority =
      [filled(p.alert_priority), filled(p.priority), eventTitle.priority, alertTitle.priority]
        .find((value) => value !== undefined && PRIORITY_TAG.test(value))
        ?.toUpperCase() ?? undefined;
    let severity: Severity;
    if (transition?.endsWith('warn')) severity = 'warning';
    else if (priority) severity = mapSeverity(priority, PRIORITY);
    else if (alertType && Object.hasOwn(ALERT_TYPE, alertType))
      severity = mapSeverity(alertType, ALERT_TYPE);
    else if (transition?.endsWith('triggered')) severity = 'major';
    else severity = 'warning';

    const scope = filled(p.alert_scope);
    const group = eventTitle.group ?? alertTitle.group;
    const tagLabels = tagsToLabels([
      ...splitTags(p.tags),
      ...splitTags(scope),
      ...splitTags(group),
    ]);
    const host = filled(p.hostname) ?? filled(p.host) ?? filled(tagLabels.host);
    const text = stripMarkdownFence(filled(p.body));
    const monitorId = filled(p.alert_id) ?? (text && /\/monitors[/#](\d+)/.exec(text)?.[1]);
    const test = /\[TEST\]/i.test(title);

    const aggregate = filled(p.aggregate) ?? filled(p.aggreg_key);
    const groupKey = host ?? scope ?? group;
    const key = aggregate ?? (monitorId && (groupKey ? `${monitorId}/${groupKey}` : monitorId));
    const at = toTimestamp(filled(p.date) ?? filled(p.last_updated));

    const labels = toLabels(tagLabels, {
      monitor_id: monitorId,
      event_type: filled(p.event_type),
      org_id: filled(p.org?.id),
      org_name: filled(p.org?.name),
      priority,
      metric: filled(p.alert_metric),
      scope,
      test: test ? 'true' : undefined,
    });

    const alert = toAlert(
      {
        source: 'datadog',
        title,
        description: text ?? filled(p.alert_status),
        severity,
        status: resolved ? 'resolved' : 'firing',
        ci: host,
        service: filled(tagLabels.service),
        fingerprint: key ? `datadog:${key}${test ? '/test' : ''}` : undefined,
        labels,
        startsAt: at,
        endsAt: resolved ? at : null,
      },
      receivedAt,
    );
    const deliveryId = filled(p.id);
    return deliveryId
      ? { kind: 'alerts', alerts: [alert], deliveryId }
      : { kind: 'alerts', alerts: [alert] };
  },
};
