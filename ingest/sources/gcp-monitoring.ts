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

const SOURCE = 'gcp-monitoring';

const text = z.string().nullish();
const scalar = z.union([z.string(), z.number()]).nullish();
const labelMap = z.record(z.string(), z.unknown()).nullish();

/** The incident of a webhook notification, schema 1.1 (Stackdriver) or 1.2. */
const bodySchema = z.looseObject({
  version: scalar,
  incident: z.looseObject({
    incident_id: z.string().trim().min(1),
    state: z.string().refine((v) => /^(open|closed)$/i.test(v), 'must be "open" or "closed"'),
    policy_name: text,
    condition_name: text,
    summary: text,
    url: text,
    severity: text,
    resource_id: scalar,
    resource_name: text,
    resource_display_name: text,
    resource: z.looseObject({ type: text, labels: labelMap }).nullish(),
    metric: z.looseObject({ type: text, labels: labelMap }).nullish(),
    metadata: z.looseObject({ system_labels: labelMap, user_labels: labelMap }).nullish(),
    policy_user_labels: labelMap,
    scoping_project_id: text,
    observed_value: scalar,
    threshold_value: scalar,
    started_at: scalar,
    ended_at: scalar,
    // Kept as text even when it holds JSON: it is the policy author's documentation.
    documentation: z.union([z.string(), z.looseObject({ content: text })]).nullish(),
  }),
});

/** The alerting policy's severity levels; "No severity" (or none) is the canonical default. */
const SEVERITY: Record<string, Severity> = {
  critical: 'critical',
  error: 'major',
  warning: 'warning',
  'no severity': 'warning',
};

const nonEmpty = (value: string | number | null | undefined): string | null =>
  value == null || String(value).trim() === '' ? null : String(value);

/**
 * Google Cloud Monitoring webhook notifications (schema 1.1 and 1.2): an open incident fires, a
 * closed one resolves, and the incident id is the fingerprint.
 */
export const gcpMonitoring: Source = {
  normalize({ body, receivedAt }): Normalized {
    const parsed = validate(bodySchema, body);
    if (!parsed.ok) return parsed.result;
    const i = parsed.value.incident;
    const closed = i.state.toLowerCase() === 'closed';
    const documentation =
      typeof i.documentation === 'string' ? i.documentation : i.documentation?.content;
    const alert = toAlert(
      {
        title: i.policy_name ?? i.condition_name ?? i.summary,
        description: [i.summary, documentation].filter((part) => part?.trim()).join('\n\n'),
        severity: mapSeverity(i.severity, SEVERITY),
        status: closed ? 'resolved' : 'firing',
        ci:
          nonEmpty(i.resource_display_name) ?? nonEmpty(i.resource_name) ?? nonEmpty(i.resource_id),
        source: SOURCE,
        fingerprint: `${SOURCE}:${i.incident_id}`,
        labels: toLabels(
          i.resource?.labels,
          i.metric?.labels,
          i.metadata?.system_labels,
          i.metadata?.user_labels,
          i.policy_user_labels,
          {
            condition_name: i.condition_name,
            resource_type: i.resource?.type,
            resource_id: nonEmpty(i.resource_id),
            metric_type: i.metric?.type,
            scoping_project_id: i.scoping_project_id,
            gcp_severity: i.severity,
            incident_state: i.state,
            incident_url: i.url,
            observed_value: nonEmpty(i.observed_value),
            threshold_value: nonEmpty(i.threshold_value),
          },
        ),
        startsAt: toTimestamp(i.started_at),
        endsAt: closed ? toTimestamp(i.ended_at) : null,
      },
      receivedAt,
    );
    return { kind: 'alerts', alerts: [alert] };
  },
};
