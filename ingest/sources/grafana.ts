import { createHash } from 'node:crypto';
import { z } from 'zod';
import { severities, type Alert, type Severity } from '../../correlator/alert.ts';
import {
  CI_LABELS,
  invalidField,
  LABEL_SEVERITY,
  mapSeverity,
  toAlert,
  toLabels,
  toTimestamp,
  validate,
  type Normalized,
  type Source,
} from '../normalize.ts';

const SOURCE = 'grafana';

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const stringMap = z.record(z.string(), scalar);
const status = z.enum(['firing', 'resolved']);

/** Grafana Alerting (8+): Alertmanager's body with Grafana's links and the query values. */
const unifiedAlertSchema = z.looseObject({
  status: status.optional(),
  labels: stringMap,
  annotations: stringMap.nullish(),
  startsAt: z.unknown().optional(),
  endsAt: z.unknown().optional(),
  fingerprint: z.string().nullish(),
  generatorURL: z.string().nullish(),
  silenceURL: z.string().nullish(),
  dashboardURL: z.string().nullish(),
  panelURL: z.string().nullish(),
  imageURL: z.string().nullish(),
  values: z.record(z.string(), scalar.nullable()).nullish(),
  valueString: z.string().nullish(),
  orgId: scalar.nullish(),
});

const unifiedSchema = z.looseObject({
  status: status.optional(),
  receiver: z.string().nullish(),
  groupKey: z.union([z.string(), z.number()]).nullish(),
  externalURL: z.string().nullish(),
  orgId: scalar.nullish(),
  alerts: z.array(unifiedAlertSchema).min(1, 'must hold at least one alert'),
});

/** Legacy dashboard alerting (before Grafana 8, removed in 11): one notification per rule. */
const legacySchema = z.looseObject({
  state: z.enum(['alerting', 'ok', 'no_data', 'paused', 'pending']),
  ruleId: z.union([z.number(), z.string()]).nullish(),
  ruleName: z.string().nullish(),
  ruleUrl: z.string().nullish(),
  title: z.string().nullish(),
  message: z.string().nullish(),
  imageUrl: z.string().nullish(),
  orgId: scalar.nullish(),
  dashboardId: scalar.nullish(),
  panelId: scalar.nullish(),
  tags: stringMap.nullish(),
  evalMatches: z
    .array(
      z.looseObject({
        metric: z.string().nullish(),
        value: scalar.nullish(),
        tags: stringMap.nullish(),
      }),
    )
    .nullish(),
});

type Labels = Record<string, string | number | boolean>;
type UnifiedAlert = z.output<typeof unifiedAlertSchema>;
type Legacy = z.output<typeof legacySchema>;

/** The first non-blank string among the given keys of a map. */
function pick(map: Labels, keys: readonly string[]): { key: string; value: string } | undefined {
  for (const key of keys) {
    const value = map[key];
    if (value !== undefined && String(value).trim() !== '') return { key, value: String(value) };
  }
  return undefined;
}

function nonBlank(value: string | number | boolean | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const text = String(value);
  return text.trim() ? text : undefined;
}

/** `host:9100` → `host`, `[::1]:9100` → `::1`; URLs and bare IPv6 addresses stay as they are. */
function stripPort(instance: string): string {
  if (instance.includes('://')) return instance;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(instance);
  if (bracketed) return bracketed[1]!;
  const hostPort = /^([^:]+):\d+$/.exec(instance);
  return hostPort ? hostPort[1]! : instance;
}

function ciOf(labels: Labels): string | undefined {
  const ci = pick(labels, CI_LABELS);
  return ci && (ci.key === 'instance' ? stripPort(ci.value) : ci.value);
}

/** A link as Grafana sent it, made absolute against its root URL when it is relative. */
function absolute(link: string | null | undefined, base: string | undefined): string | undefined {
  const text = nonBlank(link);
  if (!text || !base || URL.canParse(text)) return text;
  return URL.canParse(text, base) ? new URL(text, base).href : text;
}

/** A stable key for a label set, for the rare body that carries no fingerprint. */
function labelsKey(labels: Labels): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((k) => [k, String(labels[k])]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

/** The less severe of two severities. */
function mildest(a: Severity, b: Severity): Severity {
  return severities.indexOf(a) >= severities.indexOf(b) ? a : b;
}

function unifiedAlert(
  alert: UnifiedAlert,
  group: z.output<typeof unifiedSchema>,
  receivedAt: Date,
): Alert {
  const base = nonBlank(group.externalURL);
  const labels = alert.labels;
  const annotations = alert.annotations ?? {};
  const title = pick(annotations, ['summary', 'title']);
  const description = pick(annotations, ['description', 'message']);
  const otherAnnotations = Object.fromEntries(
    Object.entries(annotations).filter(([k]) => k !== title?.key && k !== description?.key),
  );
  const values = alert.values
    ? Object.entries(alert.values)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(', ')
    : undefined;
  // An alert's own status wins: a "firing" group can carry resolved alerts.
  const state = (alert.status ?? group.status)!;
  return toAlert(
    {
      source: SOURCE,
      title: title?.value ?? pick(labels, ['alertname'])?.value,
      description: description?.value,
      severity: mapSeverity(labels.severity, LABEL_SEVERITY),
      status: state,
      ci: ciOf(labels),
      service: pick(labels, ['service'])?.value,
      fingerprint: `${SOURCE}:${nonBlank(alert.fingerprint) ?? labelsKey(labels)}`,
      // The alert's labels are its identity, so they win over annotations and Grafana's fields.
      labels: toLabels(
        {
          receiver: nonBlank(group.receiver),
          group_key: nonBlank(group.groupKey),
          org_id: nonBlank(alert.orgId ?? group.orgId),
          external_url: base,
          generator_url: absolute(alert.generatorURL, base),
          silence_url: absolute(alert.silenceURL, base),
          dashboard_url: absolute(alert.dashboardURL, base),
          panel_url: absolute(alert.panelURL, base),
          image_url: absolute(alert.imageURL, base),
          values: nonBlank(values),
          value_string: nonBlank(alert.valueString),
        },
        otherAnnotations,
        labels,
      ),
      startsAt: toTimestamp(alert.startsAt),
      // A firing alert's endsAt is only a timeout guess, not an end.
      endsAt: state === 'resolved' ? toTimestamp(alert.endsAt) : null,
    },
    receivedAt,
  );
}

/** The tags every eval match shares with the same value: the labels of the rule's series. */
function commonTags(matches: NonNullable<Legacy['evalMatches']>): Labels {
  const [first, ...rest] = matches;
  if (!first?.tags) return {};
  return Object.fromEntries(
    Object.entries(first.tags).filter(([k, v]) => rest.every((m) => m.tags?.[k] === v)),
  );
}

function hostOf(url: string | null | undefined): string | undefined {
  const text = nonBlank(url);
  return text && URL.canParse(text) ? new URL(text).host || undefined : undefined;
}

function legacyAlert(body: Legacy, receivedAt: Date): Normalized {
  const ruleId = nonBlank(body.ruleId);
  const ruleUrl = nonBlank(body.ruleUrl);
  // Rule ids are per Grafana instance: the ruleUrl's host keeps two Grafanas apart.
  const host = hostOf(ruleUrl);
  const fingerprint = ruleId
    ? `${SOURCE}:rule:${ruleId}${host ? `@${host}` : ''}`
    : ruleUrl && `${SOURCE}:rule-url:${ruleUrl}`;
  if (!fingerprint) {
    return invalidField(['ruleId'], 'a legacy Grafana alert needs its ruleId (or ruleUrl)');
  }
  // Not yet alerting (its "for" has not elapsed): nothing to act on.
  if (body.state === 'pending') return { kind: 'alerts', alerts: [] };
  const matches = body.evalMatches ?? [];
  // The rule's own tags are its configuration (severity, team...), so they win over series tags.
  const tags = { ...commonTags(matches), ...body.tags };
  const severity = mapSeverity(tags.severity, LABEL_SEVERITY);
  const resolved = body.state === 'ok' || body.state === 'paused';
  const lines = [
    ...new Set(
      matches.map((m) => {
        const series = Object.entries(m.tags ?? {})
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(', ');
        return `${m.metric ?? 'value'} = ${String(m.value ?? 'null')}${series ? ` {${series}}` : ''}`;
      }),
    ),
  ];
  const description = [body.message?.trim(), lines.join('\n')].filter(Boolean).join('\n\n');
  const alert = toAlert(
    {
      source: SOURCE,
      title: nonBlank(body.ruleName) ?? body.title?.replace(/^\[[^\]]*\]\s*/, ''),
      description,
      // No data says nothing of the condition itself: at most a warning until the rule alerts.
      severity: body.state === 'no_data' ? mildest(severity, 'warning') : severity,
      status: resolved ? 'resolved' : 'firing',
      ci: ciOf(tags),
      service: pick(tags, ['service'])?.value,
      fingerprint,
      labels: toLabels(
        {
          rule_id: ruleId,
          rule_url: ruleUrl,
          grafana_state: body.state,
          org_id: nonBlank(body.orgId),
          dashboard_id: nonBlank(body.dashboardId),
          panel_id: nonBlank(body.panelId),
          image_url: nonBlank(body.imageUrl),
        },
        tags,
      ),
    },
    receivedAt,
  );
  // An ok (or paused) notification names the rule but no series: it changes the state only,
  // and the CI, text and severity stored from the alerting notification are kept.
  if (resolved) alert.partial = true;
  return { kind: 'alerts', alerts: [alert] };
}

const LEGACY_KEYS = ['ruleId', 'ruleName', 'ruleUrl', 'evalMatches'];

/**
 * Grafana's webhook contact point. Grafana Alerting (8+) sends Alertmanager's shape: one alert
 * per element of `alerts`, keyed by Grafana's fingerprint. Legacy dashboard alerting sends one
 * notification per rule, keyed by the rule id, so that its `ok` resolves its `alerting`.
 */
export const grafana: Source = {
  normalize({ body, receivedAt }): Normalized {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return invalidField([], 'expected a Grafana webhook object');
    }
    if (!('alerts' in body) && LEGACY_KEYS.some((k) => k in body)) {
      const parsed = validate(legacySchema, body);
      return parsed.ok ? legacyAlert(parsed.value, receivedAt) : parsed.result;
    }
    if (!('alerts' in body)) {
      return invalidField(
        ['alerts'],
        'expected the alerts of Grafana Alerting, or a legacy alert (state, ruleId, ruleName)',
      );
    }
    const parsed = validate(unifiedSchema, body);
    if (!parsed.ok) return parsed.result;
    const group = parsed.value;
    const missing = group.alerts.findIndex((a) => !a.status && !group.status);
    if (missing !== -1) {
      return invalidField(
        ['alerts', missing, 'status'],
        'expected "firing" or "resolved" here or at the top level',
      );
    }
    return { kind: 'alerts', alerts: group.alerts.map((a) => unifiedAlert(a, group, receivedAt)) };
  },
};
