import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Severity } from '../../correlator/alert.ts';
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

const SOURCE = 'splunk';

// The webhook carries no severity: a search that returns a `severity` (or `urgency`, as
// Enterprise Security's notables do) field sets it.
const RESULT_SEVERITY: Record<string, Severity> = {
  fatal: 'critical',
  severe: 'critical',
  high: 'major',
  error: 'major',
  medium: 'minor',
  low: 'warning',
  warn: 'warning',
  informational: 'info',
  debug: 'info',
};

/** Splunk's own per-event fields: noise as labels. */
const INTERNAL_FIELD = /^(_|date_)|^(punct|timestartpos|timeendpos|linecount)$/;

const text = z.string().nullish();

const schema = z.looseObject({
  sid: z.string().trim().min(1),
  search_name: text,
  result: z.record(z.string(), z.unknown()).nullish(),
  results_link: text,
  owner: text,
  app: text,
});

const isFilled = (value: unknown) =>
  value !== null &&
  value !== undefined &&
  value !== '' &&
  !(Array.isArray(value) && value.length === 0);

/** The result row as text: the raw event when there is one, else its fields one per line. */
function describeResult(result: Record<string, unknown>): string | null {
  if (typeof result._raw === 'string' && result._raw.trim()) return result._raw;
  const lines = Object.entries(result)
    .filter(([k, v]) => !k.startsWith('_') && isFilled(v))
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return lines.join('\n') || null;
}

/**
 * Splunk's webhook alert action: the saved search that fired, its search job (`sid`) and the
 * first result row. Splunk never reports recovery, so alerts stay firing until resolved in
 * Tocsin. The fingerprint is the search name (and the row's `host`), so each run of a search
 * repeats one alert per host.
 */
export const splunk: Source = {
  normalize({ body, receivedAt }: NormalizeInput): Normalized {
    const parsed = validate(schema, body);
    if (!parsed.ok) return parsed.result;
    const { sid, search_name, results_link, owner, app } = parsed.value;
    const result = parsed.value.result ?? {};
    const name = search_name?.trim() || null;
    const host = typeof result.host === 'string' && result.host.trim() ? result.host.trim() : null;
    // An unsaved search has no name (search_name null): only its job identifies it.
    const key = `${name ?? `sid:${sid.trim()}`}${host ? `:${host}` : ''}`;
    const fields = Object.fromEntries(
      Object.entries(result).filter(([k, v]) => !INTERNAL_FIELD.test(k) && isFilled(v)),
    );
    const alert = toAlert(
      {
        title: name ?? `Unsaved Splunk search ${sid.trim()}`,
        description: describeResult(result),
        severity: mapSeverity(result.severity ?? result.urgency, RESULT_SEVERITY),
        status: 'firing',
        ci: host,
        source: SOURCE,
        fingerprint: `${SOURCE}:${key}`,
        labels: toLabels(fields, {
          splunk_search_name: name,
          splunk_app: app,
          splunk_owner: owner,
          splunk_sid: sid.trim(),
          splunk_results_link: results_link,
        }),
        startsAt: toTimestamp(result._time),
      },
      receivedAt,
    );
    // A "for each result" alert posts once per row under one sid: the row tells them apart.
    const row = createHash('sha256').update(JSON.stringify(result)).digest('hex').slice(0, 16);
    return { kind: 'alerts', alerts: [alert], deliveryId: `${sid.trim()}:${row}` };
  },
};
