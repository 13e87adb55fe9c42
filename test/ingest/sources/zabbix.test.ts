import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../correlator/alert.ts';
import type { Normalized } from '../../../ingest/normalize.ts';
import { parsePayload } from '../../../ingest/payload.ts';
import { zabbix } from '../../../ingest/sources/zabbix.ts';
import {
  fixtureFiles,
  normalizeBody,
  normalizeFixture,
  RECEIVED_AT,
  expectWellFormed,
} from '../../support/fixtures.ts';

const DIR = 'zabbix';
const ZULIP_LINK = 'https://zabbix.example.com/tr_events.php?triggerid=14032&eventid=';

const cases: Record<string, Normalized> = {
  // Grafana OnCall's layout: no severity and no host, only what its script posts.
  'oncall-formatted-webhook-alerting.json': {
    kind: 'alerts',
    alerts: [
      {
        title: 'TestAlert: The whole system is down',
        description:
          'This alert was sent by user for demonstration purposes\nSmth happened. Oh no!',
        severity: 'warning',
        status: 'firing',
        ci: null,
        service: null,
        source: 'zabbix',
        fingerprint: 'zabbix:oncall/08d6891a-835c-e661-39fa-96b6a9e26552',
        labels: {
          alert_uid: '08d6891a-835c-e661-39fa-96b6a9e26552',
          event_url: 'https://en.wikipedia.org/wiki/Downtime',
          image_url:
            'https://upload.wikimedia.org/wikipedia/commons/e/ee/Grumpy_Cat_by_Gage_Skidmore.jpg',
        },
        startsAt: RECEIVED_AT.toISOString(),
        endsAt: null,
      },
    ],
  },
  // Zulip's layout: {TRIGGER.STATUS} OK resolves; the link's trigger id keys the alert.
  'zulip-media-type-ok.json': {
    kind: 'alerts',
    alerts: [
      {
        title: 'Zabbix agent on www.example.com is reachable',
        description: 'Agent ping is Up (1)',
        severity: 'minor',
        status: 'resolved',
        ci: 'www.example.com',
        service: null,
        source: 'zabbix',
        fingerprint: 'zabbix:trigger/14032/www.example.com',
        labels: { trigger_id: '14032', event_url: `${ZULIP_LINK}10529` },
        startsAt: RECEIVED_AT.toISOString(),
        endsAt: RECEIVED_AT.toISOString(),
      },
    ],
  },
  'zulip-media-type-problem.json': {
    kind: 'alerts',
    alerts: [
      {
        title: 'Zabbix agent on www.example.com is unreachable for 5 minutes',
        description: 'Agent ping is Up (1)',
        // {TRIGGER.SEVERITY} Average: Zabbix's middle level, between Warning and High.
        severity: 'minor',
        status: 'firing',
        ci: 'www.example.com',
        service: null,
        source: 'zabbix',
        fingerprint: 'zabbix:trigger/14032/www.example.com',
        labels: { trigger_id: '14032', event_url: `${ZULIP_LINK}10528` },
        startsAt: RECEIVED_AT.toISOString(),
        endsAt: null,
      },
    ],
  },
};

const MEDIA_TYPE = readFileSync(
  new URL('../../../docs/zabbix/tocsin-media-type.js', import.meta.url),
  'utf8',
);

type Post = { url: string; headers: string[]; body: unknown };

/**
 * Runs the media-type script Tocsin ships as Zabbix runs it (a function body of `value`, the
 * parameters as JSON) and returns what it posted.
 */
function sendThroughMediaType(params: Record<string, string>): Post {
  const posts: Post[] = [];
  class HttpRequest {
    private readonly headers: string[] = [];
    addHeader(header: string) {
      this.headers.push(header);
    }
    setProxy() {}
    post(url: string, body: string) {
      posts.push({ url, headers: this.headers, body: parsePayload(body) });
      return '{"accepted":1}';
    }
    getStatus() {
      return 202;
    }
  }
  const answer: unknown = runInNewContext(`(function (value) {\n${MEDIA_TYPE}\n})(value)`, {
    value: JSON.stringify(params),
    HttpRequest,
    Zabbix: { log() {} },
  });
  expect(answer).toBe('OK');
  expect(posts).toHaveLength(1);
  return posts[0]!;
}

// The media type's parameters as Zabbix 6.0 fills them for one problem of the "Linux by Zabbix
// agent" template; a problem message leaves the {EVENT.RECOVERY.*} macros unresolved.
const problemParams: Record<string, string> = {
  tocsin_url: 'https://tocsin.example.com/api/v1/ingest/zabbix',
  tocsin_token: 'tsn_zabbix',
  zabbix_url: 'https://zabbix.example.com/',
  timezone: '+01:00',
  event_id: '10528',
  event_value: '1',
  event_status: 'PROBLEM',
  event_source: '0',
  event_name: 'Zabbix agent is not available (for 3m)',
  event_severity: 'Average',
  event_nseverity: '3',
  event_opdata: '',
  event_tags:
    '[{"tag":"component","value":"system"},{"tag":"scope","value":"availability"},{"tag":"service","value":"web"}]',
  event_date: '2026.03.14',
  event_time: '09:26:53',
  event_recovery_id: '{EVENT.RECOVERY.ID}',
  event_recovery_date: '{EVENT.RECOVERY.DATE}',
  event_recovery_time: '{EVENT.RECOVERY.TIME}',
  event_ack: 'No',
  event_update_status: '0',
  host_name: 'Web server 1',
  host_host: 'web-1',
  host_ip: '10.0.0.7',
  trigger_id: '14032',
  trigger_description: 'The agent has not answered for 3 minutes.',
  subject: 'Problem: Zabbix agent is not available (for 3m)',
  message: 'Problem started at 09:26:53 on 2026.03.14\nHost: Web server 1\nSeverity: Average',
};

const recoveryParams: Record<string, string> = {
  ...problemParams,
  event_value: '0',
  event_status: 'RESOLVED',
  event_recovery_id: '10531',
  event_recovery_date: '2026.03.14',
  event_recovery_time: '09:31:53',
  subject: 'Resolved in 5m 0s: Zabbix agent is not available (for 3m)',
  message: 'Problem has been resolved at 09:31:53 on 2026.03.14\nHost: Web server 1',
};

const problemAlert: Alert = {
  title: 'Zabbix agent is not available (for 3m)',
  description: 'Problem started at 09:26:53 on 2026.03.14\nHost: Web server 1\nSeverity: Average',
  severity: 'minor',
  status: 'firing',
  // {HOST.NAME}, the visible name; the technical {HOST.HOST} is a label.
  ci: 'Web server 1',
  service: 'web',
  source: 'zabbix',
  fingerprint: 'zabbix:event/10528',
  labels: {
    component: 'system',
    scope: 'availability',
    service: 'web',
    event_id: '10528',
    trigger_id: '14032',
    host: 'web-1',
    host_ip: '10.0.0.7',
    zabbix_severity: 'Average',
    event_url: 'https://zabbix.example.com/tr_events.php?triggerid=14032&eventid=10528',
  },
  startsAt: '2026-03-14T08:26:53.000Z',
  endsAt: null,
};

const only = (result: Normalized): Alert => {
  if (result.kind !== 'alerts' || result.alerts.length !== 1)
    throw new Error(`expected one alert, got ${JSON.stringify(result)}`);
  return result.alerts[0]!;
};

/** A body in Tocsin's layout, as posted without the media type's clean-up. */
const tocsinBody = (fields: Record<string, unknown>) => ({
  event_id: '10528',
  event_name: 'Zabbix agent is not available (for 3m)',
  host_host: 'web-1',
  ...fields,
});

describe('zabbix: fixtures', () => {
  it('has a case for every fixture', () => {
    expect(Object.keys(cases).sort()).toEqual(fixtureFiles(DIR));
  });
  it.each(Object.entries(cases))('%s', (file, expected) => {
    expect(normalizeFixture(zabbix, DIR, file)).toEqual(expected);
  });
});

describe('zabbix: the media type Tocsin ships (docs/zabbix/tocsin-media-type.js)', () => {
  it('posts a problem with the token as a bearer, which Tocsin reads exactly', () => {
    const post = sendThroughMediaType(problemParams);
    expect(post.url).toBe('https://tocsin.example.com/api/v1/ingest/zabbix');
    expect(post.headers).toEqual([
      'Content-Type: application/json',
      'Authorization: Bearer tsn_zabbix',
    ]);
    // Unresolved macros are left out, and the zone-less date and time become RFC 3339.
    expect(post.body).not.toHaveProperty('event_recovery_id');
    expect(post.body).toMatchObject({ event_time: '2026-03-14T09:26:53+01:00' });
    expect(normalizeBody(zabbix, post.body)).toEqual({ kind: 'alerts', alerts: [problemAlert] });
  });

  it('resolves the problem with its recovery: same fingerprint, ended at the recovery time', () => {
    const recovery = only(normalizeBody(zabbix, sendThroughMediaType(recoveryParams).body));
    expect(recovery).toEqual({
      ...problemAlert,
      description: 'Problem has been resolved at 09:31:53 on 2026.03.14\nHost: Web server 1',
      status: 'resolved',
      endsAt: '2026-03-14T08:31:53.000Z',
    });
  });

  it('keeps an acknowledgement (an update operation) on the open alert', () => {
    const update = only(
      normalizeBody(
        zabbix,
        sendThroughMediaType({ ...problemParams, event_ack: 'Yes', event_update_status: '1' }).body,
      ),
    );
    expect(update).toMatchObject({ status: 'firing', fingerprint: problemAlert.fingerprint });
    expect(update.labels.acknowledged).toBe('true');
  });

  it('refuses to send without a token, so Zabbix shows the failure', () => {
    expect(() =>
      sendThroughMediaType({ ...problemParams, tocsin_token: '{ALERT.SENDTO}' }),
    ).toThrow(/no token/);
  });
});

describe('zabbix: Tocsin layout', () => {
  it("reads Zabbix's own date and time (no zone) as UTC, and {EVENT.TAGS} text", () => {
    const alert = only(
      normalizeBody(
        zabbix,
        tocsinBody({
          event_date: '2026.03.14',
          event_time: '09:26:53',
          event_tags: 'scope:availability, service:web, service:db, maintenance',
        }),
      ),
    );
    expect(alert.startsAt).toBe('2026-03-14T09:26:53.000Z');
    // A repeated tag keeps both values; a bare tag is an empty label.
    expect(alert.labels).toMatchObject({
      scope: 'availability',
      service: 'web, db',
      maintenance: '',
    });
    expect(alert.service).toBe('web, db');
  });

  it('keeps a tag named like an Object property as it was sent', () => {
    const alert = only(
      normalizeBody(zabbix, tocsinBody({ event_tags: 'constructor:x, toString:y, toString:z' })),
    );
    expect(alert.labels).toMatchObject({ constructor: 'x', toString: 'y, z' });
  });

  it('reads {EVENT.TAGSJSON} sent as a string', () => {
    const alert = only(
      normalizeBody(zabbix, tocsinBody({ event_tags: '[{"tag":"service","value":"db"}]' })),
    );
    expect(alert).toMatchObject({ service: 'db', labels: { service: 'db' } });
  });

  it('treats unresolved macros and *UNKNOWN* as absent', () => {
    const alert = only(
      normalizeBody(
        zabbix,
        tocsinBody({
          event_value: '{EVENT.VALUE}',
          event_recovery_id: '{EVENT.RECOVERY.ID}',
          host_name: '*UNKNOWN*',
          event_url: '{$ZABBIX.URL}',
        }),
      ),
    );
    expect(alert).toMatchObject({ status: 'firing', ci: 'web-1' });
    expect(alert.labels).not.toHaveProperty('event_url');
  });

  it('describes the trigger and its operational data when the action sends no message', () => {
    const alert = only(
      normalizeBody(
        zabbix,
        tocsinBody({ trigger_description: 'Agent down.', event_opdata: 'Ping: 0' }),
      ),
    );
    expect(alert.description).toBe('Agent down.\n\nOperational data: Ping: 0');
  });

  it('keys by trigger and host when the body has no event id', () => {
    const alert = only(
      normalizeBody(zabbix, tocsinBody({ event_id: undefined, trigger_id: '14032' })),
    );
    expect(alert.fingerprint).toBe('zabbix:trigger/14032/web-1');
  });

  it.each([
    [{ event_value: '1' }, 'firing'],
    [{ event_value: '0' }, 'resolved'],
    [{ event_value: 0 }, 'resolved'],
    [{ event_status: 'PROBLEM' }, 'firing'],
    [{ event_status: 'RESOLVED' }, 'resolved'],
    [{ event_value: '1', event_status: 'RESOLVED' }, 'firing'],
    [{ event_recovery_id: '10531' }, 'resolved'],
    [{}, 'firing'],
  ])('reads the status of %j as %s', (fields, status) => {
    expect(only(normalizeBody(zabbix, tocsinBody(fields))).status).toBe(status);
  });

  it.each([
    [{ event_nseverity: '0' }, 'info'],
    [{ event_nseverity: '1' }, 'info'],
    [{ event_nseverity: '2' }, 'warning'],
    [{ event_nseverity: '3' }, 'minor'],
    [{ event_nseverity: 4 }, 'major'],
    [{ event_nseverity: '5' }, 'critical'],
    [{ event_severity: 'Not classified' }, 'info'],
    [{ event_severity: 'Information' }, 'info'],
    [{ event_severity: 'Warning' }, 'warning'],
    [{ event_severity: 'Average' }, 'minor'],
    [{ event_severity: 'High' }, 'major'],
    [{ event_severity: 'Disaster' }, 'critical'],
    // Severity names can be renamed in Zabbix; the number cannot.
    [{ event_severity: 'Sev-A', event_nseverity: '5' }, 'critical'],
    [{ event_severity: 'Sev-A' }, 'warning'],
    [{}, 'warning'],
  ])('maps %j to severity %s', (fields, severity) => {
    expect(only(normalizeBody(zabbix, tocsinBody(fields))).severity).toBe(severity);
  });
});

describe('zabbix: Zulip and Grafana OnCall layouts', () => {
  it("resolves Zulip's problem with its OK message although the event ids differ", () => {
    const problem = only(normalizeFixture(zabbix, DIR, 'zulip-media-type-problem.json'));
    const ok = only(normalizeFixture(zabbix, DIR, 'zulip-media-type-ok.json'));
    expect(problem.labels.event_url).not.toBe(ok.labels.event_url);
    expect([problem.status, ok.status]).toEqual(['firing', 'resolved']);
    expect(ok.fingerprint).toBe(problem.fingerprint);
  });

  it.each([
    ['Not classified', 'info'],
    ['Information', 'info'],
    ['Warning', 'warning'],
    ['Average', 'minor'],
    ['High', 'major'],
    ['Disaster', 'critical'],
  ])('maps Zulip {TRIGGER.SEVERITY} %s to %s', (severity, expected) => {
    const body = { hostname: 'h', severity, status: 'PROBLEM', trigger: 'T' };
    expect(only(normalizeBody(zabbix, body)).severity).toBe(expected);
  });

  // What grafana_oncall.sh posts: the action's subject, and state "ok" on RECOVER/OK/Resolved.
  const oncall = (subject: string, state: string, alertUid?: string) => ({
    ...(alertUid === undefined ? {} : { alert_uid: alertUid }),
    title: subject,
    state,
    message: 'Host: Web server 1',
  });

  it("resolves OnCall's alert by its ONCALL_GROUP id, titled without Zabbix's prefixes", () => {
    const problem = only(
      normalizeBody(
        zabbix,
        oncall('Problem: Agent unavailable ONCALL_GROUP: web1agent', 'alerting', 'web1agent'),
      ),
    );
    const resolved = only(
      normalizeBody(
        zabbix,
        oncall('Resolved in 5m 0s: Agent unavailable ONCALL_GROUP: web1agent', 'ok', 'web1agent'),
      ),
    );
    expect(problem).toMatchObject({
      title: 'Agent unavailable',
      status: 'firing',
      fingerprint: 'zabbix:oncall/web1agent',
    });
    expect(resolved).toMatchObject({
      title: 'Agent unavailable',
      status: 'resolved',
      fingerprint: 'zabbix:oncall/web1agent',
      endsAt: RECEIVED_AT.toISOString(),
    });
  });

  it('resolves an OnCall alert without a group id by its cleaned subject', () => {
    const problem = only(normalizeBody(zabbix, oncall('Problem: Disk full', 'alerting')));
    const resolved = only(normalizeBody(zabbix, oncall('Resolved in 1h: Disk full', 'OK')));
    expect(resolved.status).toBe('resolved');
    expect(resolved.fingerprint).toBe(problem.fingerprint);
    expect(problem.fingerprint).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('zabbix: invalid bodies', () => {
  it.each([
    [{}, ['/event_name']],
    [{ event_name: 5 }, ['/event_name']],
    [{ event_name: '{EVENT.NAME}' }, ['/event_name']],
    [{ event_name: 'x', event_tags: 5 }, ['/event_tags']],
    // A list or a string: zod reports the union at the field itself.
    [{ event_name: 'x', event_tags: [{ value: 'v' }] }, ['/event_tags']],
    [{ event_name: 'x', host_name: ['a'] }, ['/host_name']],
    [{ hostname: 'h', trigger: 'T' }, ['/status']],
    [{ hostname: 'h', status: 'PROBLEM' }, ['/trigger']],
    [{ trigger: 'T', status: 1 }, ['/status']],
    [{ alert_uid: 'u' }, ['/title', '/state']],
    [{ title: 'T', state: 1 }, ['/state']],
  ])('points at the bad fields of %j', (body, pointers) => {
    const result = normalizeBody(zabbix, body);
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.errors.map((e) => e.pointer)).toEqual(pointers);
  });

  it.each([null, 42, 'x', true, [], [{}], { event_name: null }].map((body) => [body]))(
    'never throws on %j',
    (body) => {
      expect(normalizeBody(zabbix, body).kind).toBe('invalid');
    },
  );

  it('answers any body with a well-formed outcome', () => {
    const wellFormed = (result: Normalized) => expectWellFormed(result);
    fc.assert(fc.property(fc.anything(), (body) => wellFormed(normalizeBody(zabbix, body))));
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (fields) =>
        wellFormed(normalizeBody(zabbix, tocsinBody(fields))),
      ),
    );
  });
});
