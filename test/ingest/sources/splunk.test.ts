import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Normalized } from '../../../ingest/normalize.ts';
import { parsePayload } from '../../../ingest/payload.ts';
import { splunk } from '../../../ingest/sources/splunk.ts';
import {
  fixtureFiles,
  normalizeBody,
  normalizeFixture,
  readFixture,
  RECEIVED_AT,
  expectWellFormed,
} from '../../support/fixtures.ts';

const DIR = 'splunk';
const SID = 'rt_scheduler__admin__search__sudo_at_1483557185_2.2';
const RESULTS_LINK =
  'http://example.com:8000/app/search/search?q=%7Cloadjob%20rt_scheduler__admin__search__sudo_at_1483557185_2.2%20%7C%20head%201%20%7C%20tail%201&earliest=0&latest=now';

const cases: Record<string, Normalized> = {
  'webhook-alert-action-one-result.json': {
    kind: 'alerts',
    alerts: [
      {
        title: 'sudo',
        description:
          'Jan  4 11:14:32 myserver sudo: pam_unix(sudo:session): session closed for user root',
        severity: 'warning',
        status: 'firing',
        ci: 'myserver',
        service: null,
        source: 'splunk',
        fingerprint: 'splunk:sudo:myserver',
        // The row's fields, without Splunk's internal ones (_raw, date_*, punct...) or empty ones.
        labels: {
          splunk_server: 'myserver',
          source: '/var/log/auth.log',
          host: 'myserver',
          index: 'main',
          process: 'sudo',
          sourcetype: 'syslog',
          splunk_search_name: 'sudo',
          splunk_app: 'search',
          splunk_owner: 'admin',
          splunk_sid: SID,
          splunk_results_link: RESULTS_LINK,
        },
        startsAt: '2017-01-04T19:14:32.000Z',
        endsAt: null,
      },
    ],
    // The sid, then a digest of the row: a "for each result" alert posts rows under one sid.
    deliveryId: `${SID}:6466d7f1dc0c64ab`,
  },
};

type Body = Record<string, unknown> & { result: Record<string, unknown> };
const fixture = () =>
  parsePayload(readFixture(DIR, 'webhook-alert-action-one-result.json')) as Body;

/** The captured body with its top-level fields and result row edited. */
function edited(top: Record<string, unknown>, result: Record<string, unknown> = {}): Body {
  const body = fixture();
  return { ...body, ...top, result: { ...body.result, ...result } };
}

const only = (result: Normalized) => {
  if (result.kind !== 'alerts') throw new Error(JSON.stringify(result));
  return { alert: result.alerts[0]!, deliveryId: result.deliveryId };
};

describe('splunk: fixtures', () => {
  it('has a case for every fixture', () => {
    expect(Object.keys(cases).sort()).toEqual(fixtureFiles(DIR));
  });
  it.each(Object.entries(cases))('%s', (file, expected) => {
    expect(normalizeFixture(splunk, DIR, file)).toEqual(expected);
  });
});

describe('splunk', () => {
  it("reads the docs' example: an unsaved search (search_name null), no host, no _raw", () => {
    // help.splunk.com, "Use a webhook alert action", Webhook data payload example.
    const body = {
      result: { sourcetype: 'mongod', count: '8' },
      sid: 'scheduler_admin_search_W2_at_14232356_132',
      results_link:
        'http://web.example.local:8000/app/search/@go?sid=scheduler_admin_search_W2_at_14232356_132',
      search_name: null,
      owner: 'admin',
      app: 'search',
    };
    const { alert } = only(normalizeBody(splunk, body));
    expect(alert).toEqual({
      title: 'Unsaved Splunk search scheduler_admin_search_W2_at_14232356_132',
      description: 'sourcetype: mongod\ncount: 8',
      severity: 'warning',
      status: 'firing',
      ci: null,
      service: null,
      source: 'splunk',
      fingerprint: 'splunk:sid:scheduler_admin_search_W2_at_14232356_132',
      labels: {
        sourcetype: 'mongod',
        count: '8',
        splunk_app: 'search',
        splunk_owner: 'admin',
        splunk_sid: 'scheduler_admin_search_W2_at_14232356_132',
        splunk_results_link:
          'http://web.example.local:8000/app/search/@go?sid=scheduler_admin_search_W2_at_14232356_132',
      },
      startsAt: RECEIVED_AT.toISOString(),
      endsAt: null,
    });
  });

  it('repeats one alert per search and host across runs', () => {
    const first = only(normalizeBody(splunk, fixture()));
    const nextRun = only(
      normalizeBody(
        splunk,
        edited(
          { sid: 'rt_scheduler__admin__search__sudo_at_1483557485_2.9' },
          { _time: '1483557572' },
        ),
      ),
    );
    const otherHost = only(normalizeBody(splunk, edited({}, { host: 'otherserver' })));
    expect(nextRun.alert.fingerprint).toBe(first.alert.fingerprint);
    expect(nextRun.deliveryId).not.toBe(first.deliveryId);
    expect(otherHost.alert.fingerprint).toBe('splunk:sudo:otherserver');
  });

  it('tells apart the rows a "for each result" alert posts under one sid', () => {
    const row1 = only(normalizeBody(splunk, fixture()));
    const row1Again = only(normalizeBody(splunk, fixture()));
    const row2 = only(normalizeBody(splunk, edited({}, { _serial: '3', pid: '4242' })));
    expect(row1Again.deliveryId).toBe(row1.deliveryId);
    expect(row2.deliveryId).not.toBe(row1.deliveryId);
    expect(row2.deliveryId?.startsWith(`${SID}:`)).toBe(true);
    expect(row2.alert.fingerprint).toBe(row1.alert.fingerprint);
  });

  it.each([
    [{ severity: 'critical' }, 'critical'],
    [{ severity: 'high' }, 'major'],
    [{ urgency: 'medium' }, 'minor'],
    [{ urgency: 'low' }, 'warning'],
    [{ severity: 'informational' }, 'info'],
    [{ severity: ['high', 'low'] }, 'warning'],
    [{ severity: 'constructor' }, 'warning'],
    [{}, 'warning'],
  ])('reads severity from the result row %j as %s', (fields, severity) => {
    expect(only(normalizeBody(splunk, edited({}, fields))).alert.severity).toBe(severity);
  });

  it('accepts a body without a result row', () => {
    const { alert } = only(
      normalizeBody(splunk, { sid: 's1', search_name: 'Errors', result: null }),
    );
    expect(alert).toMatchObject({
      title: 'Errors',
      ci: null,
      description: null,
      fingerprint: 'splunk:Errors',
    });
  });

  it.each([
    [{}, ['/sid']],
    [{ sid: '' }, ['/sid']],
    [{ sid: 's', result: 'x' }, ['/result']],
    [{ sid: 's', result: [] }, ['/result']],
    [{ sid: 's', search_name: 7 }, ['/search_name']],
  ])('points at the bad fields of %j', (body, pointers) => {
    const result = normalizeBody(splunk, body);
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.errors.map((e) => e.pointer)).toEqual(pointers);
  });

  it.each([null, 42, 'x', true, [], {}, { sid: null }].map((body) => [body]))(
    'never throws on %j',
    (body) => {
      expect(normalizeBody(splunk, body).kind).toBe('invalid');
    },
  );

  it('answers any body with a well-formed outcome', () => {
    const wellFormed = (result: Normalized) => expectWellFormed(result);
    fc.assert(fc.property(fc.anything(), (body) => wellFormed(normalizeBody(splunk, body))));
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.dictionary(fc.string(), fc.jsonValue()),
        (top, row) => wellFormed(normalizeBody(splunk, edited(top, row))),
      ),
    );
  });
});
