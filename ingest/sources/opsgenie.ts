import { z } from 'zod';
import type { Severity } from '../../correlator/alert.ts';
import {
  mapSeverity,
  tagsToLabels,
  toAlert,
  toLabels,
  toTimestamp,
  validate,
  type Normalized,
  type NormalizeInput,
  type Source,
} from '../normalize.ts';

const SOURCE = 'opsgenie';

const PRIORITY_SEVERITY: Record<string, Severity> = {
  p1: 'critical',
  p2: 'major',
  p3: 'minor',
  p4: 'warning',
  p5: 'info',
};

/** Actions that leave the alert open; Opsgenie refuses them on a closed alert. */
const OPEN_ACTIONS = new Set([
  'create',
  'acknowledge',
  'unacknowledge',
  'snooze',
  'snoozeended',
  'escalate',
  'escalatetonext',
]);
/** Actions after which the alert is gone from Opsgenie's open list. */
const CLOSING_ACTIONS = new Set(['close', 'delete']);

const text = z.string().nullish();
// Nanosecond values beyond 2^53 arrive as strings of exact digits.
const epoch = z.union([z.number(), z.string()]).nullish();

const schema = z.looseObject({
  action: z.string().trim().min(1),
  alert: z.looseObject({
    alertId: z.string().trim().min(1),
    message: text,
    description: text,
    alias: text,
    tinyId: z.union([z.string(), z.number()]).nullish(),
    entity: text,
    source: text,
    priority: text,
    tags: z.array(z.string()).nullish(),
    details: z.record(z.string(), z.unknown()).nullish(),
    team: text,
    username: text,
    createdAt: epoch,
    updatedAt: epoch,
  }),
  integrationName: text,
});

const filled = (value: string | number | null | undefined) =>
  value === null || value === undefined || String(value).trim() === '' ? null : String(value);

/**
 * Opsgenie's outgoing webhook integration: one alert action (`Create`, `Acknowledge`, `Close`...)
 * per request. Only `Create` carries the description and details, so every other action is a
 * partial update that keeps the stored text. Actions that say nothing of the alert's state
 * (notes, tags, owners, priority or message updates) are accepted and dropped: the webhook
 * carries no status, and they also happen on closed alerts.
 */
export const opsgenie: Source = {
  normalize({ body, receivedAt }: NormalizeInput): Normalized {
    const parsed = validate(schema, body);
    if (!parsed.ok) return parsed.result;
    const { action, alert, integrationName } = parsed.value;
    const verb = action.trim().toLowerCase();
    const closing = CLOSING_ACTIONS.has(verb);
    if (!closing && !OPEN_ACTIONS.has(verb)) return { kind: 'alerts', alerts: [] };
    const updatedAt = filled(alert.updatedAt);
    const canonical = toAlert(
      {
        title: filled(alert.message) ?? filled(alert.alias),
        description: alert.description,
        severity: mapSeverity(alert.priority, PRIORITY_SEVERITY, 'minor'),
        status: closing ? 'resolved' : 'firing',
        ci: alert.entity,
        source: SOURCE,
        fingerprint: `${SOURCE}:${alert.alertId.trim()}`,
        labels: toLabels(tagsToLabels(alert.tags ?? []), alert.details, {
          opsgenie_alert_id: alert.alertId.trim(),
          opsgenie_tiny_id: filled(alert.tinyId),
          opsgenie_alias: filled(alert.alias),
          opsgenie_action: action.trim(),
          opsgenie_priority: filled(alert.priority),
          opsgenie_source: filled(alert.source),
          opsgenie_team: filled(alert.team),
          opsgenie_user: filled(alert.username),
          opsgenie_integration: filled(integrationName),
          opsgenie_updated_at: updatedAt,
        }),
        startsAt: toTimestamp(alert.createdAt),
        endsAt: closing ? toTimestamp(updatedAt) : null,
        partial: verb !== 'create',
      },
      receivedAt,
    );
    return { kind: 'alerts', alerts: [canonical] };
  },
};
