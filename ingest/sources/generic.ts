import { alertInputSchema, type Alert } from '../../correlator/alert.ts';
import type { FieldError } from '../../runtime/problem.ts';
import { pointer } from '../../runtime/problem.ts';
import { deriveFingerprint } from '../fingerprint.ts';

/** A normalizer's answer: canonical alerts, or the fields that were wrong. */
export type Normalized = { ok: true; alerts: Alert[] } | { ok: false; errors: FieldError[] };

const MAX_ERRORS = 20;

/**
 * Normalizes Tocsin's own format: one canonical alert, or an array of them (NDJSON arrives here
 * as an array). Timestamps become UTC; missing fingerprints are derived.
 */
export function normalizeGeneric(body: unknown, receivedAt: Date): Normalized {
  const items = Array.isArray(body) ? body : [body];
  const prefix = Array.isArray(body) ? (i: number) => [i] : () => [];
  if (items.length === 0)
    return { ok: false, errors: [{ pointer: '', detail: 'no alerts in the body' }] };
  const alerts: Alert[] = [];
  const errors: FieldError[] = [];
  items.forEach((item, i) => {
    const parsed = alertInputSchema.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const path =
          issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : issue.path;
        errors.push({ pointer: pointer([...prefix(i), ...path]), detail: issue.message });
      }
      return;
    }
    const a = parsed.data;
    const source = a.source ?? 'generic';
    const ci = a.ci ?? null;
    alerts.push({
      title: a.title,
      description: a.description ?? null,
      severity: a.severity,
      status: a.status,
      ci,
      service: a.service ?? null,
      source,
      fingerprint:
        a.fingerprint ?? deriveFingerprint({ source, ci, title: a.title, labels: a.labels }),
      labels: a.labels,
      startsAt: new Date(a.startsAt ?? receivedAt).toISOString(),
      endsAt: a.endsAt
        ? new Date(a.endsAt).toISOString()
        : a.status === 'resolved'
          ? receivedAt.toISOString()
          : null,
    });
  });
  return errors.length > 0
    ? { ok: false, errors: errors.slice(0, MAX_ERRORS) }
    : { ok: true, alerts };
}
