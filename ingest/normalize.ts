import { createHash } from 'node:crypto';
import type { z } from 'zod';
import {
  severities,
  type Alert,
  type AlertInput,
  type AlertStatus,
  type Severity,
} from '../correlator/alert.ts';
import { pointer, type FieldError } from '../runtime/problem.ts';
import { deriveFingerprint } from './fingerprint.ts';

/** One webhook delivery as a normalizer sees it: the parsed body and the request's headers. */
export type NormalizeInput = {
  /** The parsed body; integers beyond 2^53 arrive as strings of their exact digits. */
  body: unknown;
  receivedAt: Date;
  /** A request header by (case-insensitive) name. */
  header: (name: string) => string | undefined;
};

/**
 * A message from a tool that is not an alert but must reach a person: an AWS SNS subscription
 * to confirm, say. It is recorded and shown to admins; nothing is fetched on its behalf.
 */
export type Notice = { kind: 'sns-subscription'; summary: string; details: Record<string, string> };

/** What a normalizer made of a delivery; the ingest route maps each kind to an HTTP answer. */
export type Normalized =
  | {
      kind: 'alerts';
      alerts: Alert[];
      /** The tool's own id of this delivery, when it sends one: a resend is not counted twice. */
      deliveryId?: string | null;
    }
  | { kind: 'notice'; notice: Notice; deliveryId?: string | null }
  /** The body is not of the source's shape: 400, pointing at the fields. */
  | { kind: 'invalid'; errors: FieldError[] }
  /** The body is well-formed but cannot be used as sent (an old schema, say): 422 says why. */
  | { kind: 'unprocessable'; detail: string; pointer?: string };

/** One monitoring tool's webhook format. */
export type Source = {
  /** Media types the tool sends, beyond application/json. */
  mediaTypes?: readonly string[];
  /** Whether application/x-ndjson bodies are read (as an array of their lines). */
  ndjson?: boolean;
  normalize(input: NormalizeInput): Normalized;
};

const MAX_ERRORS = 20;

/** Validates a body against a zod schema, turning every issue into a JSON pointer (400). */
export function validate<S extends z.ZodType>(
  schema: S,
  body: unknown,
  at: readonly PropertyKey[] = [],
): { ok: true; value: z.output<S> } | { ok: false; result: Normalized } {
  const parsed = schema.safeParse(body);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    result: { kind: 'invalid', errors: issuesToErrors(parsed.error.issues, at) },
  };
}

/** Maps zod issues to field errors with JSON pointers, at most twenty. */
export function issuesToErrors(
  issues: readonly z.core.$ZodIssue[],
  at: readonly PropertyKey[] = [],
): FieldError[] {
  return issues.slice(0, MAX_ERRORS).map((issue) => ({
    pointer: pointer([
      ...at,
      ...issue.path,
      ...(issue.code === 'unrecognized_keys' ? [issue.keys[0] ?? ''] : []),
    ]),
    detail: issue.message,
  }));
}

/** A 400 for one field. */
export function invalidField(path: readonly PropertyKey[], detail: string): Normalized {
  return { kind: 'invalid', errors: [{ pointer: pointer(path), detail }] };
}

const ZERO_TIME = /^0001-01-01T00:00:00/;

/**
 * A timestamp as RFC 3339 UTC, from what tools send: RFC 3339 strings (any offset), epoch
 * seconds, milliseconds, microseconds or nanoseconds (numbers or digit strings). Go's zero time
 * and anything unreadable give null.
 */
export function toTimestamp(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'string' && ZERO_TIME.test(value)) return null;
  let ms: number;
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value))) {
    const n = Number(value);
    const digits = String(Math.trunc(n)).length;
    // Seconds (10 digits until 2286), milliseconds (13), microseconds (16), nanoseconds (19).
    ms = digits <= 11 ? n * 1000 : digits <= 14 ? n : digits <= 17 ? n / 1000 : n / 1e6;
  } else if (typeof value === 'string') {
    ms = Date.parse(value);
  } else {
    return null;
  }
  if (!Number.isFinite(ms)) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

const MAX_LABELS = 128;
const MAX_LABEL_VALUE = 4096;

/**
 * Flattens a tool's tags or labels into the canonical string map: scalars become strings, nested
 * values JSON; empty keys and nulls are dropped, values cut at 4 KiB, at most 128 labels. Every
 * name is a label, "__proto__" and "constructor" too (gathered in a Map, not a plain object).
 */
export function toLabels(
  ...sources: (Record<string, unknown> | null | undefined)[]
): Record<string, string> {
  const labels = new Map<string, string>();
  for (const source of sources) {
    if (!source) continue;
    for (const [key, value] of Object.entries(source)) {
      if (!key || key.length > 255 || value === null || value === undefined) continue;
      if (!labels.has(key) && labels.size >= MAX_LABELS) continue;
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      labels.set(key, text.slice(0, MAX_LABEL_VALUE));
    }
  }
  return Object.fromEntries(labels);
}

/** Parses `key:value` tags (Datadog, New Relic) into labels; a bare tag maps to "". */
export function tagsToLabels(tags: readonly string[]): Record<string, string> {
  const labels = new Map<string, string>();
  for (const tag of tags) {
    const i = tag.indexOf(':');
    if (i === -1) labels.set(tag, '');
    else labels.set(tag.slice(0, i), tag.slice(i + 1));
  }
  return toLabels(Object.fromEntries(labels));
}

/**
 * Reads a severity by its name in a tool's vocabulary (case-insensitive), or the fallback. Only
 * the table's own names count: a sender's "constructor" or "toString" is not a severity.
 */
export function mapSeverity(
  value: unknown,
  table: Record<string, Severity>,
  fallback: Severity = 'warning',
): Severity {
  if (typeof value !== 'string' && typeof value !== 'number') return fallback;
  const key = String(value).trim().toLowerCase();
  if ((severities as readonly string[]).includes(key)) return key as Severity;
  return Object.hasOwn(table, key) ? table[key]! : fallback;
}

/** The fields a normalizer fills in; everything else has a canonical default. */
export type AlertFields = {
  title: string | null | undefined;
  description?: string | null | undefined;
  severity?: Severity;
  status?: AlertStatus;
  ci?: string | null | undefined;
  service?: string | null | undefined;
  source: string;
  fingerprint?: string | null | undefined;
  labels?: Record<string, string>;
  startsAt?: string | null | undefined;
  endsAt?: string | null | undefined;
  partial?: boolean;
};

/**
 * The fields of a canonical alert as posted (the generic source, a CloudEvent's data), with the
 * source, status and times the caller settled. Spelled out rather than spread: on Node 20, an
 * object spread followed by new keys (`{ ...a, source }`) takes V8's slow path, about 2.5 µs per
 * alert here against 0.1 µs (bench/ingest scenario (a) runs it once per request).
 */
export function canonicalFields(
  a: AlertInput,
  settled: { source: string; status: AlertStatus; startsAt: string | null; endsAt: string | null },
): AlertFields {
  return {
    title: a.title,
    description: a.description,
    severity: a.severity,
    status: settled.status,
    ci: a.ci,
    service: a.service,
    source: settled.source,
    fingerprint: a.fingerprint,
    labels: a.labels,
    startsAt: settled.startsAt,
    endsAt: settled.endsAt,
  };
}

const clip = (value: string | null | undefined, max: number): string | null => {
  const text = value?.trim();
  return text ? text.slice(0, max) : null;
};

const MAX_FINGERPRINT = 512;

/**
 * A fingerprint within 512 characters (its unique index holds about 2.7 kB). A longer one, built
 * from a tool's key (a Datadog monitor and its group scope, a Splunk search and host), keeps its
 * start and ends in a digest of the whole: cut alone, keys that differ only past the cut (two
 * groups of one monitor, a "/test" suffix) were one alert.
 */
function boundFingerprint(value: string | null | undefined): string | null {
  const text = value?.trim();
  if (!text || text.length <= MAX_FINGERPRINT) return text || null;
  const digest = createHash('sha256').update(Buffer.from(text, 'utf16le')).digest('hex');
  return `${text.slice(0, MAX_FINGERPRINT - 18).toWellFormed()}…#${digest.slice(0, 16)}`;
}

// A time before 2000 (the Unix epoch itself, 0, is the common placeholder; a unit misread lands
// in 1970) or within a year of 9999 is a placeholder or a misread unit, and past 9999 it is
// neither RFC 3339 nor a PostgreSQL timestamp (nor is year 0): read it as absent. An alert that
// started at the epoch was decades behind the correlator's event time: late, it opened an
// incident of its own instead of joining the one its text and CI belong to.
const EARLIEST = Date.UTC(2000, 0, 1);
const LATEST = Date.UTC(9999, 0, 1);
// A time more than a minute after receipt is a sender's clock running ahead or a misread unit,
// read as absent too. The correlator orders every sender's alerts by these times and holds them
// to the latest it has seen (less its allowed lateness, 5 minutes): one alert dated next year
// made every later alert of every sender late, opening incidents of its own instead of joining.
const MAX_AHEAD_MS = 60_000;

const inRange = (at: string | null | undefined, receivedAt: Date): string | null => {
  const ms = at ? Date.parse(at) : NaN;
  return ms >= EARLIEST && ms < LATEST && ms <= receivedAt.getTime() + MAX_AHEAD_MS ? at! : null;
};

/**
 * Builds a canonical alert from what a tool sent: trims and bounds the text fields, names an
 * untitled alert after its source, defaults startsAt to receipt and derives a missing fingerprint
 * from source, CI, title and labels. A resolved alert without an end time ends at receipt; a time
 * out of range (before 2000, from 9999, or more than a minute after receipt) counts as none.
 */
export function toAlert(fields: AlertFields, receivedAt: Date): Alert {
  const title = clip(fields.title, 1024) ?? `${fields.source} alert`;
  const ci = clip(fields.ci, 255);
  const labels = fields.labels ?? {};
  const status = fields.status ?? 'firing';
  const alert: Alert = {
    title,
    description: fields.description?.trim() ? fields.description.slice(0, 65536) : null,
    severity: fields.severity ?? 'warning',
    status,
    ci,
    service: clip(fields.service, 255),
    source: fields.source,
    fingerprint:
      boundFingerprint(fields.fingerprint) ??
      deriveFingerprint({ source: fields.source, ci, title, labels }),
    labels,
    startsAt: inRange(fields.startsAt, receivedAt) ?? receivedAt.toISOString(),
    endsAt:
      inRange(fields.endsAt, receivedAt) ??
      (status === 'resolved' ? receivedAt.toISOString() : null),
  };
  if (fields.partial) alert.partial = true;
  return alert;
}

/**
 * The common spellings of a `severity` label or tag (Prometheus, Grafana); canonical names pass
 * through as they are.
 */
export const LABEL_SEVERITY: Record<string, Severity> = {
  page: 'critical',
  crit: 'critical',
  fatal: 'critical',
  emergency: 'critical',
  disaster: 'critical',
  p1: 'critical',
  high: 'major',
  error: 'major',
  err: 'major',
  p2: 'major',
  medium: 'minor',
  moderate: 'minor',
  average: 'minor',
  p3: 'minor',
  warn: 'warning',
  low: 'warning',
  p4: 'warning',
  informational: 'info',
  information: 'info',
  notice: 'info',
  debug: 'info',
  none: 'info',
  p5: 'info',
};

/**
 * Labels naming the CI, most specific first: a host beats a Kubernetes node beats the scrape
 * target (which in Kubernetes is often the exporter, not the subject) beats a pod.
 */
export const CI_LABELS = ['host', 'hostname', 'node', 'instance', 'pod', 'device'] as const;
