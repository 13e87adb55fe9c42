import { alertInputSchema, type Alert } from '../../correlator/alert.ts';
import {
  canonicalFields,
  issuesToErrors,
  toAlert,
  type Normalized,
  type Source,
} from '../normalize.ts';

/**
 * Tocsin's own format: one canonical alert, or an array of them (NDJSON arrives as an array).
 * Timestamps become UTC; missing fingerprints are derived.
 */
export const generic: Source = {
  ndjson: true,
  normalize({ body, receivedAt }): Normalized {
    const items = Array.isArray(body) ? body : [body];
    const at = (i: number) => (Array.isArray(body) ? [i] : []);
    if (items.length === 0)
      return { kind: 'invalid', errors: [{ pointer: '', detail: 'no alerts in the body' }] };
    const alerts: Alert[] = [];
    const errors = [];
    for (const [i, item] of items.entries()) {
      const parsed = alertInputSchema.safeParse(item);
      if (!parsed.success) {
        errors.push(...issuesToErrors(parsed.error.issues, at(i)));
        if (errors.length >= 20) break;
        continue;
      }
      const a = parsed.data;
      alerts.push(
        toAlert(
          canonicalFields(a, {
            source: a.source ?? 'generic',
            status: a.status,
            startsAt: a.startsAt ? new Date(a.startsAt).toISOString() : null,
            endsAt: a.endsAt ? new Date(a.endsAt).toISOString() : null,
          }),
          receivedAt,
        ),
      );
    }
    return errors.length > 0
      ? { kind: 'invalid', errors: errors.slice(0, 20) }
      : { kind: 'alerts', alerts };
  },
};
