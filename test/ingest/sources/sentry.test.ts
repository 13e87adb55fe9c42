import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../correlator/alert.ts';
import type { Normalized } from '../../../ingest/normalize.ts';
import { parsePayload } from '../../../ingest/payload.ts';
import { sentry } from '../../../ingest/sources/sentry.ts';
import {
  fixtureFiles,
  normalizeBody,
  normalizeFixture,
  readFixture,
  RECEIVED_AT,
  expectWellFormed,
} from '../../support/fixtures.ts';

const DIR = 'sentry';
const REQUEST_ID = '2d7c1f0e9b8a4c6d8e0f1a2b3c4d5e6f';
/** What Sentry sends with every integration-platform issue webhook. */
const ISSUE_HEADERS = {
  'Content-Type': 'application/json',
  'Request-ID': REQUEST_ID,
  'Sentry-Hook-Resource': 'issue',
  'Sentry-Hook-Timestamp': '1588082165',
  'Sentry-Hook-Signature': '0'.repeat(64),
};

const created: Alert = {
  title: 'Exception: Custom exception!',
  description: '__main__ in <module>',
  severity: 'major',
  status: 'firing',
  ci: 'zulip-integration-testing',
  service: null,
  source: 'sentry',
  fingerprint: 'sentry:issue:1635244907',
  labels: {
    sentry_issue_id: '1635244907',
    sentry_short_id: 'ZULIP-INTEGRATION-TESTING-2',
    sentry_project: 'zulip-integration-testing',
    sentry_level: 'error',
    sentry_status: 'unresolved',
    sentry_platform: 'python',
    sentry_action: 'created',
  },
  startsAt: '2020-04-28T13:56:05.903Z',
  endsAt: null,
};

const cases: Record<string, { headers: Record<string, string>; expected: Normalized }> = {
  'integration-issue-created.json': {
    headers: ISSUE_HEADERS,
    expected: { kind: 'alerts', alerts: [created], deliveryId: REQUEST_ID },
  },
  'integration-issue-resolved.json': {
    headers: ISSUE_HEADERS,
    expected: {
      kind: 'alerts',
      alerts: [
        {
          title: 'Exception: program has entered an invalid state.',
          description: '__main__ in <module>',
          severity: 'major',
          status: 'resolved',
          ci: 'zulip-integration-testing',
          service: null,
          source: 'sentry',
          fingerprint: 'sentry:issue:1638821441',
          labels: {
            sentry_issue_id: '1638821441',
            sentry_short_id: 'ZULIP-INTEGRATION-TESTING-E',
            sentry_project: 'zulip-integration-testing',
            sentry_level: 'error',
            sentry_status: 'resolved',
            sentry_platform: 'python',
            sentry_action: 'resolved',
          },
          startsAt: '2020-04-30T05:54:15.092Z',
          // The payload says when the issue was first seen, not when it was resolved.
          endsAt: RECEIVED_AT.toISOString(),
        },
      ],
      deliveryId: REQUEST_ID,
    },
  },
  'legacy-plugin-webhook-event.json': {
    headers: {},
    expected: {
      kind: 'alerts',
      alerts: [
        {
          title: 'This is an example Python exception',
          description: 'raven.scripts.runner in main',
          severity: 'major',
          status: 'firing',
          ci: 'alerta5',
          service: null,
          source: 'sentry',
          fingerprint: 'sentry:issue:541485531',
          labels: {
            browser: 'Chrome 28.0',
            device: 'Other',
            level: 'error',
            os: 'Windows 8',
            'sentry:user': 'id:1',
            url: 'http://example.com/foo',
            sentry_issue_id: '541485531',
            sentry_project: 'alerta5',
            sentry_issue_url: 'https://sentry.io/alertaio/alerta5/issues/541485531/',
            sentry_level: 'error',
            sentry_event_id: '0476467adf8f499ea795a48fcc4bf290',
          },
          startsAt: '2018-05-02T08:07:10.000Z',
          endsAt: null,
        },
      ],
      deliveryId: '0476467adf8f499ea795a48fcc4bf290',
    },
  },
};

type IssueBody = { action: string; data: { issue: Record<string, unknown> } };
const issueBody = (file = 'integration-issue-created.json') =>
  parsePayload(readFixture(DIR, file)) as IssueBody;

/** The captured "created" webhook with its action and issue edited. */
function issue(action: string, fields: Record<string, unknown> = {}): IssueBody {
  const body = issueBody();
  return { ...body, action, data: { issue: { ...body.data.issue, ...fields } } };
}

const only = (result: Normalized) => {
  if (result.kind !== 'alerts') throw new Error(JSON.stringify(result));
  return result.alerts[0]!;
};

describe('sentry: fixtures', () => {
  it('has a case for every fixture', () => {
    expect(Object.keys(cases).sort()).toEqual(fixtureFiles(DIR));
  });
  it.each(Object.entries(cases))('%s', (file, { headers, expected }) => {
    expect(normalizeFixture(sentry, DIR, file, headers)).toEqual(expected);
  });
});

describe('sentry: integration-platform issue webhooks', () => {
  it('recognizes an issue webhook by its shape when the headers were lost', () => {
    expect(normalizeFixture(sentry, DIR, 'integration-issue-created.json')).toEqual({
      kind: 'alerts',
      alerts: [created],
    });
  });

  it('resolves with the fingerprint its creation opened', () => {
    const resolved = only(normalizeBody(sentry, issue('resolved', { status: 'resolved' })));
    expect(resolved).toMatchObject({ status: 'resolved', fingerprint: created.fingerprint });
  });

  it.each([
    ['archived', 'ignored', 'resolved'],
    ['ignored', 'ignored', 'resolved'],
    ['unresolved', 'unresolved', 'firing'],
    // Assigned after it was resolved: the issue's own status wins, nothing reopens.
    ['assigned', 'resolved', 'resolved'],
    ['assigned', 'unresolved', 'firing'],
    ['resolved', undefined, 'resolved'],
    ['created', undefined, 'firing'],
  ])('maps action %s with issue status %s to %s', (action, status, expected) => {
    expect(only(normalizeBody(sentry, issue(action, { status }), ISSUE_HEADERS)).status).toBe(
      expected,
    );
  });

  it('labels the web URL and the assignee when Sentry sends them', () => {
    const alert = only(
      normalizeBody(
        sentry,
        issue('assigned', {
          web_url: 'https://acme.sentry.io/issues/1635244907/',
          permalink: 'https://acme.sentry.io/share/issue/x/',
          assignedTo: { type: 'user', id: '1', name: 'Ada', email: 'ada@example.com' },
        }),
        ISSUE_HEADERS,
      ),
    );
    expect(alert.labels).toMatchObject({
      sentry_issue_url: 'https://acme.sentry.io/issues/1635244907/',
      sentry_assignee: 'Ada',
      sentry_action: 'assigned',
    });
  });

  it.each([
    ['fatal', 'critical'],
    ['error', 'major'],
    ['warning', 'warning'],
    ['info', 'info'],
    ['debug', 'info'],
    ['constructor', 'warning'],
  ])('maps level %s to %s', (level, severity) => {
    expect(only(normalizeBody(sentry, issue('created', { level }))).severity).toBe(severity);
  });

  it('answers alert-rule webhooks with what to change, and drops other resources', () => {
    const body = { action: 'triggered', data: { event: { issue_id: '1' } } };
    for (const resource of ['event_alert', 'metric_alert'])
      expect(normalizeBody(sentry, body, { 'Sentry-Hook-Resource': resource })).toMatchObject({
        kind: 'unprocessable',
        detail: expect.stringContaining('subscribe the integration to Issue webhooks') as string,
      });
    for (const resource of ['installation', 'comment', 'error'])
      expect(normalizeBody(sentry, body, { 'Sentry-Hook-Resource': resource })).toEqual({
        kind: 'alerts',
        alerts: [],
      });
  });

  it.each([
    [{}, ['/action', '/data']],
    [{ action: 'created', data: {} }, ['/data/issue']],
    [{ action: 'created', data: { issue: { title: 't' } } }, ['/data/issue/id']],
    [{ action: 'created', data: { issue: { id: '1', project: 'p' } } }, ['/data/issue/project']],
    [{ action: 'created', data: { issue: { id: 1.5 } } }, ['/data/issue/id']],
  ])('points at the bad fields of %j', (body, pointers) => {
    const result = normalizeBody(sentry, body, ISSUE_HEADERS);
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.errors.map((e) => e.pointer)).toEqual(pointers);
  });
});

describe('sentry: legacy WebHooks plugin', () => {
  it('takes the Request-ID header over the event id when there is one', () => {
    expect(
      normalizeFixture(sentry, DIR, 'legacy-plugin-webhook-event.json', { 'Request-ID': 'r-1' }),
    ).toMatchObject({ deliveryId: 'r-1' });
  });

  it('falls back to message and culprit when the event is missing', () => {
    const alert = only(
      normalizeBody(sentry, {
        id: 7,
        project: 'shop',
        message: 'TypeError: x is undefined',
        culprit: 'cart.js in total',
        level: 'fatal',
      }),
    );
    expect(alert).toMatchObject({
      title: 'TypeError: x is undefined',
      description: 'cart.js in total',
      severity: 'critical',
      ci: 'shop',
      fingerprint: 'sentry:issue:7',
      startsAt: RECEIVED_AT.toISOString(),
    });
  });

  it.each([
    [{}, ['/id']],
    [{ id: '1', project: 5 }, ['/project']],
    [{ id: '1', event: { tags: 'browser:Chrome' } }, ['/event/tags']],
  ])('points at the bad fields of %j', (body, pointers) => {
    const result = normalizeBody(sentry, body);
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.errors.map((e) => e.pointer)).toEqual(pointers);
  });
});

describe('sentry: any JSON value', () => {
  it.each([null, 42, 'x', true, [], {}, { data: null }, { data: { issue: null } }].map((b) => [b]))(
    'never throws on %j, with or without the issue header',
    (body) => {
      expect(normalizeBody(sentry, body).kind).toBe('invalid');
      expect(normalizeBody(sentry, body, ISSUE_HEADERS).kind).toBe('invalid');
    },
  );

  it('answers any body with a well-formed outcome', () => {
    const wellFormed = (result: Normalized) =>
      expectWellFormed(result, ['alerts', 'invalid', 'unprocessable']);
    const fields = fc.dictionary(fc.string(), fc.jsonValue());
    fc.assert(
      fc.property(fc.anything(), fc.option(fc.string()), (body, resource) =>
        wellFormed(
          normalizeBody(
            sentry,
            body,
            resource === null ? {} : { 'Sentry-Hook-Resource': resource },
          ),
        ),
      ),
    );
    fc.assert(
      fc.property(fc.string(), fields, (action, fields) =>
        wellFormed(normalizeBody(sentry, issue(action, fields), ISSUE_HEADERS)),
      ),
    );
    const legacy = parsePayload(readFixture(DIR, 'legacy-plugin-webhook-event.json')) as object;
    fc.assert(
      fc.property(fields, (fields) => wellFormed(normalizeBody(sentry, { ...legacy, ...fields }))),
    );
  });
});
