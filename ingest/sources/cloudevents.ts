import { createHash } from 'node:crypto';
import { z } from 'zod';
import { alertInputSchema, type Alert, type Severity } from '../../correlator/alert.ts';
import {
  canonicalFields,
  issuesToErrors,
  mapSeverity,
  toAlert,
  toLabels,
  toTimestamp,
  validate,
  type NormalizeInput,
  type Normalized,
  type Source,
} from '../normalize.ts';

const required = (name: string) =>
  z.string({ message: `the CloudEvents attribute "${name}" is required (a string)` }).min(1, {
    message: `the CloudEvents attribute "${name}" must not be empty`,
  });

// CloudEvents 1.0, JSON format: the four required attributes, the optional ones Tocsin reads, and
// the "severitytext" documented extension. Other extensions are allowed and ignored.
const eventSchema = z.looseObject({
  specversion: z.literal('1.0', { message: 'specversion must be "1.0"' }),
  id: required('id'),
  source: required('source'),
  type: required('type'),
  subject: z.string().nullish(),
  time: z.iso.datetime({ offset: true, message: 'must be an RFC 3339 timestamp' }).nullish(),
  datacontenttype: z.string().nullish(),
  // OPTIONAL in the spec: an event may carry data_base64 instead, or no data at all.
  data: z.unknown().optional(),
  data_base64: z.string().nullish(),
  severitytext: z.string().nullish(),
});

type CloudEvent = z.output<typeof eventSchema>;

type FieldError = Extract<Normalized, { kind: 'invalid' }>['errors'][number];

const CANONICAL_FIELDS = new Set(Object.keys(alertInputSchema.shape));

/** Severity words in `data.severity` or the `severitytext` extension (OpenTelemetry levels). */
const SEVERITY: Record<string, Severity> = {
  fatal: 'critical',
  emergency: 'critical',
  alert: 'critical',
  error: 'major',
  high: 'major',
  medium: 'minor',
  warn: 'warning',
  low: 'warning',
  notice: 'info',
  debug: 'info',
  trace: 'info',
};

// A type's last segment may say what happened to the alert; it is not part of what the alert is.
const RESOLVED_SUFFIX = /\.(resolved|closed|recovered)$/i;
const FIRING_SUFFIX = /\.(firing|fired|triggered|opened|open|raised|created|activated)$/i;
const RESOLVED_STATUS = new Set(['resolved', 'closed', 'recovered', 'ok']);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() ? value.trim() : undefined;

/** An event's alert, or the errors of its `data` when it is a malformed Tocsin alert. */
function toEventAlert(
  event: CloudEvent,
  at: readonly PropertyKey[],
  receivedAt: Date,
): { ok: true; alert: Alert } | { ok: false; errors: FieldError[] } {
  const { data, source, subject } = event;
  const baseType = event.type.replace(RESOLVED_SUFFIX, '').replace(FIRING_SUFFIX, '');
  const dataStatus = isRecord(data) ? str(data.status)?.toLowerCase() : undefined;
  const resolved =
    dataStatus !== undefined ? RESOLVED_STATUS.has(dataStatus) : RESOLVED_SUFFIX.test(event.type);
  const time = event.time ? toTimestamp(event.time) : null;

  // A Tocsin alert as data: a title and nothing but canonical fields.
  if (
    isRecord(data) &&
    'title' in data &&
    Object.keys(data).every((k) => CANONICAL_FIELDS.has(k))
  ) {
    const parsed = alertInputSchema.safeParse(data);
    if (!parsed.success)
      return { ok: false, errors: issuesToErrors(parsed.error.issues, [...at, 'data']) };
    const a = parsed.data;
    const status = 'status' in data ? a.status : resolved ? 'resolved' : 'firing';
    const alert = toAlert(
      canonicalFields(a, {
        source: a.source ?? 'cloudevents',
        status,
        startsAt: a.startsAt ? new Date(a.startsAt).toISOString() : time,
        endsAt: a.endsAt ? new Date(a.endsAt).toISOString() : status === 'resolved' ? time : null,
      }),
      receivedAt,
    );
    return { ok: true, alert };
  }

  const d = isRecord(data) ? data : {};
  const labels = isRecord(d.labels) ? d.labels : undefined;
  let description: string | null = null;
  if (typeof data === 'string') description = data;
  else if (data !== undefined && data !== null) description = JSON.stringify(data, null, 2);
  else if (event.data_base64)
    description = `(binary data, ${event.datacontenttype ?? 'no datacontenttype'})`;
  const fingerprint =
    str(d.fingerprint) ?? (subject ? `cloudevents:${source}/${subject}#${baseType}` : undefined);
  const alert = toAlert(
    {
      source: 'cloudevents',
      title: str(d.title) ?? str(d.summary) ?? baseType,
      description,
      severity: mapSeverity(str(d.severity) ?? str(event.severitytext), SEVERITY),
      status: resolved ? 'resolved' : 'firing',
      ci: str(d.ci) ?? str(d.host) ?? str(subject),
      service: str(d.service),
      fingerprint,
      labels: toLabels(labels, { ce_source: source, ce_type: baseType }),
      startsAt: toTimestamp(d.startsAt) ?? time,
      endsAt: resolved ? (toTimestamp(d.endsAt) ?? time) : null,
    },
    receivedAt,
  );
  return { ok: true, alert };
}

/** Binary content mode: the attributes are `ce-*` headers and the body is the event's data. */
function eventFromHeaders(input: NormalizeInput): Record<string, unknown> | null {
  const read = (name: string) => {
    const raw = input.header(`ce-${name}`);
    if (raw === undefined) return undefined;
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  };
  if (read('specversion') === undefined) return null;
  const event: Record<string, unknown> = { data: input.body };
  for (const name of ['specversion', 'id', 'source', 'type', 'subject', 'time', 'severitytext']) {
    const value = read(name);
    if (value !== undefined) event[name] = value;
  }
  return event;
}

/** The idempotency key of a delivery: one event's `source/id`, or a digest of a batch's. */
function deliveryIdOf(events: readonly CloudEvent[]): string | null {
  if (events.length === 0) return null;
  if (events.length === 1) return `${events[0]!.source}/${events[0]!.id}`;
  const ids = events.map((e) => `${e.source}/${e.id}`);
  return `batch:${createHash('sha256').update(JSON.stringify(ids)).digest('hex').slice(0, 32)}`;
}

/**
 * CloudEvents 1.0 over HTTP: structured mode (one event), the JSON batch format (an array) and
 * binary mode (`ce-*` headers). An event whose `data` is a Tocsin alert is taken as it is; any
 * other event becomes an alert named after its type, about its subject.
 */
export const cloudevents: Source = {
  mediaTypes: ['application/cloudevents+json', 'application/cloudevents-batch+json'],
  normalize(input): Normalized {
    const mediaType = input.header('content-type')?.split(';')[0]?.trim().toLowerCase();
    const binary = mediaType?.startsWith('application/cloudevents')
      ? null
      : eventFromHeaders(input);
    const body = binary ?? input.body;
    if (mediaType === 'application/cloudevents-batch+json' && !Array.isArray(body))
      return {
        kind: 'invalid',
        errors: [{ pointer: '', detail: 'a CloudEvents batch must be a JSON array of events' }],
      };
    if (mediaType === 'application/cloudevents+json' && Array.isArray(body))
      return {
        kind: 'invalid',
        errors: [
          {
            pointer: '',
            detail: 'one event expected: send a batch as application/cloudevents-batch+json',
          },
        ],
      };

    const items: unknown[] = Array.isArray(body) ? body : [body];
    const at = (i: number): PropertyKey[] => (Array.isArray(body) ? [i] : []);
    const events: CloudEvent[] = [];
    const alerts: Alert[] = [];
    const errors: FieldError[] = [];
    for (const [i, item] of items.entries()) {
      const parsed = validate(eventSchema, item, at(i));
      if (!parsed.ok) {
        if (parsed.result.kind === 'invalid') errors.push(...parsed.result.errors);
      } else {
        const made = toEventAlert(parsed.value, at(i), input.receivedAt);
        if (made.ok) {
          events.push(parsed.value);
          alerts.push(made.alert);
        } else errors.push(...made.errors);
      }
      if (errors.length >= 20) break;
    }
    if (errors.length > 0) return { kind: 'invalid', errors: errors.slice(0, 20) };
    return { kind: 'alerts', alerts, deliveryId: deliveryIdOf(events) };
  },
};
