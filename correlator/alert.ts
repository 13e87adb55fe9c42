import { z } from 'zod';

/** Alert severities, most severe first; the order is used to compare them. */
export const severities = ['critical', 'major', 'minor', 'warning', 'info'] as const;
/** One of the canonical severities. */
export type Severity = (typeof severities)[number];

/** Alert status as the sending tool reports it. */
export const alertStatuses = ['firing', 'resolved'] as const;
/** Firing or resolved. */
export type AlertStatus = (typeof alertStatuses)[number];

const text = (max: number) => z.string().trim().min(1).max(max);
const timestamp = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 timestamp' });

/** The canonical alert as a sender may post it to `generic`: only the title is required. */
export const alertInputSchema = z.strictObject({
  title: text(1024),
  description: z.string().max(65536).nullish(),
  severity: z.enum(severities).default('warning'),
  status: z.enum(alertStatuses).default('firing'),
  ci: text(255).nullish(),
  service: text(255).nullish(),
  source: text(64).nullish(),
  fingerprint: text(512).nullish(),
  labels: z
    .record(z.string().min(1).max(255), z.string().max(4096))
    .refine((labels) => Object.keys(labels).length <= 128, 'at most 128 labels')
    .default({}),
  startsAt: timestamp.nullish(),
  endsAt: timestamp.nullish(),
});

/** A canonical alert as posted, before defaults that depend on receipt are filled in. */
export type AlertInput = z.output<typeof alertInputSchema>;

/** The canonical alert every source is normalized into; what the correlator consumes. */
export type Alert = {
  title: string;
  description: string | null;
  severity: Severity;
  status: AlertStatus;
  ci: string | null;
  service: string | null;
  source: string;
  fingerprint: string;
  labels: Record<string, string>;
  /** RFC 3339; the receipt time when the sender gave none. */
  startsAt: string;
  endsAt: string | null;
  /**
   * Set when the sender reported only a state change for a fingerprint it had sent before
   * (PagerDuty's acknowledge and resolve carry no text): the stored title, description,
   * severity, CI and service are kept, and the labels are merged.
   */
  partial?: true;
};

/** Returns the more severe of two severities. */
export function worstSeverity(a: Severity, b: Severity): Severity {
  return severities.indexOf(a) <= severities.indexOf(b) ? a : b;
}
