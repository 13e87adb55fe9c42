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

const text = z.string().nullish();
const id = z.union([z.string(), z.number()]).nullish();
const tagSchema = z.looseObject({
  tag: z.string(),
  value: z.union([z.string(), z.number()]).nullish(),
});

// Tocsin's layout, as docs/zabbix/tocsin-media-type.js builds it from the media type's parameters.
const tocsinSchema = z.looseObject({
  event_id: id,
  event_value: id,
  event_status: text,
  event_name: z.string(),
  event_severity: id,
  event_nseverity: id,
  event_source: id,
  event_opdata: text,
  event_tags: z.union([z.array(tagSchema), z.string()]).nullish(),
  event_date: text,
  event_time: text,
  event_recovery_id: id,
  event_recovery_date: text,
  event_recovery_time: text,
  event_ack: text,
  event_url: text,
  host_name: text,
  host_host: text,
  host_ip: text,
  trigger_id: id,
  trigger_description: text,
  message: text,
  subject: text,
});

// Zulip's Zabbix media type: {HOST.NAME}, {TRIGGER.SEVERITY}, {TRIGGER.STATUS}, {TRIGGER.NAME}...
const zulipSchema = z.looseObject({
  hostname: text,
  severity: text,
  status: z.string(),
  item: text,
  trigger: z.string(),
  link: text,
});

// Grafana OnCall's "formatted webhook" layout, as its grafana_oncall.sh script posts it.
const oncallSchema = z.looseObject({
  alert_uid: id,
  title: z.string(),
  state: z.string(),
  message: text,
  image_url: text,
  link_to_upstream_details: text,
});

/** Zabbix severities by name ({EVENT.SEVERITY}) and by number ({EVENT.NSEVERITY}). */
const SEVERITY: Record<string, Severity> = {
  'not classified': 'info',
  information: 'info',
  warning: 'warning',
  average: 'minor',
  high: 'major',
  disaster: 'critical',
  '0': 'info',
  '1': 'info',
  '2': 'warning',
  '3': 'minor',
  '4': 'major',
  '5': 'critical',
};

const RECOVERED = new Set(['0', 'ok', 'resolved', 'recovery', 'recovered']);

/**
 * Zabbix leaves a macro it cannot resolve in place (`{EVENT.RECOVERY.ID}` in a problem message)
 * or writes `*UNKNOWN*`: such a top-level value is treated as absent.
 */
function withoutUnresolvedMacros(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).filter(
      ([, value]) =>
        !(
          typeof value === 'string' &&
          /^(\{[$#]?[A-Z][A-Z0-9_.]*\}|\*UNKNOWN\*)$/.test(value.trim())
        ),
    ),
  );
}

const present = (value: string | number | null | undefined): string | undefined =>
  value === null || value === undefined || String(value).trim() === ''
    ? undefined
    : String(value).trim();

/**
 * An event time: RFC 3339 as the media type sends it, or Zabbix's own `yyyy.mm.dd` date and
 * `hh:mm:ss` time, which carry no zone and are read as UTC.
 */
function eventTime(date: string | undefined, time: string | undefined): string | null {
  if (time && /^\d{4}-\d{2}-\d{2}T/.test(time)) return toTimestamp(time);
  const d = date && /^(\d{4})\.(\d{2})\.(\d{2})$/.exec(date);
  const t = time && /^\d{2}:\d{2}:\d{2}$/.test(time) ? time : undefined;
  return d && t ? toTimestamp(`${d[1]}-${d[2]}-${d[3]}T${t}Z`) : null;
}

/** {EVENT.TAGSJSON} (a list, or the same list as a JSON string) or {EVENT.TAGS} ("a:b, c"). */
function tagsOf(tags: z.output<typeof tocsinSchema>['event_tags']): Record<string, string> {
  let list: { tag: string; value?: string | number | null }[] = [];
  if (Array.isArray(tags)) list = tags;
  else if (typeof tags === 'string' && tags.trim().startsWith('[')) {
    try {
      const parsed = z.array(tagSchema).safeParse(JSON.parse(tags));
      if (parsed.success) list = parsed.data;
    } catch {
      // Not JSON after all: read it as {EVENT.TAGS} below.
    }
  }
  if (list.length === 0 && typeof tags === 'string' && !tags.trim().startsWith('[')) {
    list = tags
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean)
      .map((t) => {
        const i = t.indexOf(':');
        return i === -1 ? { tag: t } : { tag: t.slice(0, i), value: t.slice(i + 1) };
      });
  }
  // A tag name can repeat (two `service` tags): its values are joined.
  const labels = new Map<string, string>();
  for (const { tag, value } of list) {
    const key = tag.trim();
    if (!key) continue;
    const v = value === null || value === undefined ? '' : String(value);
    const before = labels.get(key);
    labels.set(key, before !== undefined && before !== v ? `${before}, ${v}` : v);
  }
  return toLabels(Object.fromEntries(labels));
}

function normalizeTocsin(p: z.output<typeof tocsinSchema>, receivedAt: Date): Normalized {
  const value = present(p.event_value) ?? present(p.event_status)?.toLowerCase();
  const resolved =
    value !== undefined
      ? RECOVERED.has(value.toLowerCase())
      : present(p.event_recovery_id) !== undefined;
  const host = present(p.host_name) ?? present(p.host_host) ?? present(p.host_ip);
  const eventId = present(p.event_id);
  const triggerId = present(p.trigger_id);
  const tags = tagsOf(p.event_tags);
  const opdata = present(p.event_opdata);
  const startsAt = eventTime(present(p.event_date), present(p.event_time));
  const endsAt = resolved
    ? eventTime(present(p.event_recovery_date), present(p.event_recovery_time))
    : null;
  const alert = toAlert(
    {
      source: 'zabbix',
      title: present(p.event_name) ?? present(p.subject),
      // The action's message, as the media type's other recipients read it; else the trigger's.
      description:
        present(p.message) ??
        [present(p.trigger_description), opdata && `Operational data: ${opdata}`]
          .filter(Boolean)
          .join('\n\n'),
      severity: mapSeverity(present(p.event_nseverity) ?? present(p.event_severity), SEVERITY),
      status: resolved ? 'resolved' : 'firing',
      ci: host,
      service: tags.service || undefined,
      fingerprint: eventId
        ? `zabbix:event/${eventId}`
        : triggerId
          ? `zabbix:trigger/${triggerId}/${host ?? ''}`
          : undefined,
      labels: toLabels(tags, {
        event_id: eventId,
        trigger_id: triggerId,
        host: present(p.host_host),
        host_ip: present(p.host_ip),
        zabbix_severity: present(p.event_severity),
        event_url: present(p.event_url),
        acknowledged: present(p.event_ack)?.toLowerCase() === 'yes' ? 'true' : undefined,
      }),
      startsAt: startsAt ?? endsAt,
      endsAt,
    },
    receivedAt,
  );
  return { kind: 'alerts', alerts: [alert] };
}

function normalizeZulip(p: z.output<typeof zulipSchema>, receivedAt: Date): Normalized {
  const resolved = RECOVERED.has(p.status.trim().toLowerCase());
  const host = present(p.hostname);
  const link = present(p.link);
  const triggerId = link && /[?&]triggerid=(\d+)/.exec(link)?.[1];
  const alert = toAlert(
    {
      source: 'zabbix',
      title: present(p.trigger),
      description: present(p.item),
      severity: mapSeverity(present(p.severity), SEVERITY),
      status: resolved ? 'resolved' : 'firing',
      ci: host,
      // The link's event id differs between problem and recovery; the trigger's does not.
      fingerprint: triggerId ? `zabbix:trigger/${triggerId}/${host ?? ''}` : undefined,
      labels: triggerId ? toLabels({ trigger_id: triggerId, event_url: link }) : {},
    },
    receivedAt,
  );
  return { kind: 'alerts', alerts: [alert] };
}

/** Subject decorations of the OnCall script: its grouping marker and Zabbix's default prefixes. */
function cleanSubject(subject: string): string {
  return subject
    .replace(/\s*ONCALL_GROUP:\s*\S*/, '')
    .replace(/^(Problem|Resolved(\s+in\s+[^:]+)?|OK|RECOVER(Y|ED)?):\s*/i, '')
    .trim();
}

function normalizeOncall(p: z.output<typeof oncallSchema>, receivedAt: Date): Normalized {
  const uid = present(p.alert_uid);
  const resolved = RECOVERED.has(p.state.trim().toLowerCase());
  const alert = toAlert(
    {
      source: 'zabbix',
      title: cleanSubject(p.title),
      description: present(p.message),
      status: resolved ? 'resolved' : 'firing',
      fingerprint: uid ? `zabbix:oncall/${uid}` : undefined,
      labels: toLabels({
        alert_uid: uid,
        event_url: present(p.link_to_upstream_details),
        image_url: present(p.image_url),
      }),
    },
    receivedAt,
  );
  return { kind: 'alerts', alerts: [alert] };
}

/**
 * Zabbix webhook media types. Zabbix has no fixed body: Tocsin's media type
 * (docs/zabbix/tocsin-media-type.js) posts `event_*`/`host_*`/`trigger_*` fields; the layouts of
 * Zulip's media type and Grafana OnCall's script are recognized by their shape. Keyed by the
 * problem event id, which a recovery message carries as {EVENT.ID}, so the recovery resolves it.
 */
export const zabbix: Source = {
  normalize({ body, receivedAt }): Normalized {
    const fields =
      typeof body === 'object' && body !== null && !Array.isArray(body)
        ? withoutUnresolvedMacros(body as Record<string, unknown>)
        : body;
    const keys = typeof fields === 'object' && fields !== null ? Object.keys(fields) : [];
    if (!keys.some((k) => /^(event|host|trigger)_/.test(k))) {
      if (keys.includes('alert_uid') || (keys.includes('title') && keys.includes('state'))) {
        const oncall = validate(oncallSchema, fields);
        return oncall.ok ? normalizeOncall(oncall.value, receivedAt) : oncall.result;
      }
      if (keys.includes('trigger') || keys.includes('hostname')) {
        const zulip = validate(zulipSchema, fields);
        return zulip.ok ? normalizeZulip(zulip.value, receivedAt) : zulip.result;
      }
    }
    const tocsin = validate(tocsinSchema, fields);
    return tocsin.ok ? normalizeTocsin(tocsin.value, receivedAt) : tocsin.result;
  },
};
