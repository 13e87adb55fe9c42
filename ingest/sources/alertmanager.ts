import { z } from 'zod';
import type { Alert } from '../../correlator/alert.ts';
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

const SOURCE = 'alertmanager';

const status = z.enum(['firing', 'resolved']);
// Alertmanager label values are strings; numbers and booleans from hand-rolled senders are read too.
const stringMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

const alertSchema = z.looseObject({
  status: status.optional(),
  labels: stringMap,
  annotations: stringMap.nullish(),
  startsAt: z.unknown().optional(),
  endsAt: z.unknown().optional(),
  generatorURL: z.string().nullish(),
  fingerprint: z.string().nullish(),
});

const bodySchema = z.looseObject({
  version: z.union([z.string(), z.number()]).nullish(),
  status: status.optional(),
  receiver: z.string().nullish(),
  // A string since version 4; version 3 sends a uint64, which parsePayload keeps as exact digits.
  groupKey: z.union([z.string(), z.number()]).nullish(),
  externalURL: z.string().nullish(),
  alerts: z.array(alertSchema).min(1, 'must hold at least one alert'),
});

type AlertBody = z.output<typeof alertSchema>;
type Labels = Record<string, string | number | boolean>;

const SUPPORTED_VERSIONS = ['3', '4'];

/** The first non-blank string among the given keys of a map. */
function pick(map: Labels, keys: readonly string[]): { key: string; value: string } | undefined {
  for (const key of keys) {
    const value = map[key];
    if (value !== undefined && String(value).trim() !== '') return { key, value: String(value) };
  }
  return undefined;
}

/** `host:9100` → `host`, `[::1]:9100` → `::1`; URLs and bare IPv6 addresses stay as they are. */
function stripPort(instance: string): string {
  if (instance.includes('://')) return instance;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(instance);
  if (bracketed) return bracketed[1]!;
  const hostPort = /^([^:]+):\d+$/.exec(instance);
  return hostPort ? hostPort[1]! : instance;
}

/**
 * Alertmanager's own fingerprint of a label set (Prometheus `LabelSet.Fingerprint`): FNV-1a 64
 * over the names sorted bytewise, each name and value followed by a 0xff byte, in 16 hex digits.
 * Computed when a sender leaves the field out, so both kinds of sender agree on one alert.
 */
function labelSetFingerprint(labels: Labels): string {
  const names = Object.keys(labels).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const prime = 1099511628211n;
  const mask = (1n << 64n) - 1n;
  let hash = 14695981039346656037n;
  const add = (bytes: Iterable<number>) => {
    for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * prime) & mask;
  };
  for (const name of names) {
    add(Buffer.from(name));
    add([0xff]);
    add(Buffer.from(String(labels[name])));
    add([0xff]);
  }
  return hash.toString(16).padStart(16, '0');
}

function nonBlank(value: string | null | undefined): string | undefined {
  return value?.trim() ? value : undefined;
}

function toCanonical(
  alert: AlertBody,
  groupStatus: 'firing' | 'resolved',
  group: { receiver?: string; groupKey?: string; externalURL?: string },
  receivedAt: Date,
): Alert {
  const labels = alert.labels;
  const annotations = alert.annotations ?? {};
  const title = pick(annotations, ['summary', 'title']);
  const description = pick(annotations, ['description', 'message']);
  const otherAnnotations = Object.fromEntries(
    Object.entries(annotations).filter(([k]) => k !== title?.key && k !== description?.key),
  );
  const ci = pick(labels, CI_LABELS);
  // An alert's own status wins: a "firing" group can carry resolved alerts.
  const state = alert.status ?? groupStatus;
  return toAlert(
    {
      source: SOURCE,
      title: title?.value ?? pick(labels, ['alertname'])?.value,
      description: description?.value,
      severity: mapSeverity(labels.severity, LABEL_SEVERITY),
      status: state,
      ci: ci && (ci.key === 'instance' ? stripPort(ci.value) : ci.value),
      service: pick(labels, ['service'])?.value,
      fingerprint: `${SOURCE}:${nonBlank(alert.fingerprint) ?? labelSetFingerprint(labels)}`,
      // The alert's labels are its identity in Alertmanager, so they win over everything else.
      labels: toLabels(
        {
          receiver: nonBlank(group.receiver),
          group_key: nonBlank(group.groupKey),
          external_url: nonBlank(group.externalURL),
          generator_url: nonBlank(alert.generatorURL),
        },
        otherAnnotations,
        labels,
      ),
      startsAt: toTimestamp(alert.startsAt),
      // A firing alert's endsAt is only Alertmanager's guess of when it will time out.
      endsAt: state === 'resolved' ? toTimestamp(alert.endsAt) : null,
    },
    receivedAt,
  );
}

/**
 * Prometheus Alertmanager's webhook (version 4, and the legacy version 3): one canonical alert
 * per element of `alerts`, each with its own status, keyed by Alertmanager's label-set fingerprint
 * so that the resolved notification matches the firing one.
 */
export const alertmanager: Source = {
  normalize({ body, receivedAt }): Normalized {
    const parsed = validate(bodySchema, body);
    if (!parsed.ok) return parsed.result;
    const b = parsed.value;
    const version = b.version === null || b.version === undefined ? null : String(b.version);
    if (version !== null && !SUPPORTED_VERSIONS.includes(version)) {
      return {
        kind: 'unprocessable',
        pointer: '/version',
        detail:
          version === '1'
            ? 'Version "1" is the Grafana Alerting webhook: point Grafana at /api/v1/ingest/grafana.'
            : `Alertmanager webhook version "${version}" is not supported; Tocsin reads versions 3 and 4.`,
      };
    }
    const missing = b.alerts.findIndex((a) => !a.status && !b.status);
    if (missing !== -1) {
      return invalidField(
        ['alerts', missing, 'status'],
        'expected "firing" or "resolved" here or at the top level',
      );
    }
    const group = {
      receiver: b.receiver ?? undefined,
      groupKey: b.groupKey === null || b.groupKey === undefined ? undefined : String(b.groupKey),
      externalURL: b.externalURL ?? undefined,
    };
    return {
      kind: 'alerts',
      alerts: b.alerts.map((a) => toCanonical(a, b.status ?? 'firing', group, receivedAt)),
    };
  },
};
