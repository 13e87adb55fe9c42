import { describe, expect, it } from 'vitest';
import type { Normalized } from '../../../ingest/normalize.ts';
import { parsePayload } from '../../../ingest/payload.ts';
import { newrelic } from '../../../ingest/sources/newrelic.ts';
import {
  fixtureFiles,
  normalizeBody,
  normalizeFixture,
  readFixture,
} from '../../support/fixtures.ts';

const DIR = 'newrelic';

const cases: Record<string, Normalized> = {
  'legacy-v1-incident-open.json': {
    kind: 'alerts',
    alerts: [
      {
        title: 'New Relic Alert - Test Condition',
        description: 'I am a test Violation',
        severity: 'info',
        status: 'firing',
        // The test target has an empty name.
        ci: null,
        service: null,
        source: 'newrelic',
        fingerprint: 'newrelic:0',
        labels: {
          incident_id: '0',
          incident_url: 'https://alerts.newrelic.com/accounts/11111/incidents/0',
          state: 'open',
          policy: 'New Relic Alert - Test Policy',
          condition: 'New Relic Alert - Test Condition',
          condition_id: '0',
          account_id: '11111',
          account_name: 'Myaccount (Staging)',
          runbook_url: 'http://localhost/runbook/url',
          target_type: 'Application',
          target_product: 'TESTING',
          target_link: 'http://localhost/sample/violation/charturl/12345',
        },
        startsAt: '2020-09-25T11:23:27.849Z',
        endsAt: null,
      },
    ],
  },
  'workflow-default-issue-closed.json': {
    kind: 'alerts',
    alerts: [
      {
        title: "main_app-UBUNTU query result is > 2.0 for 1 minutes on 'High CPU'",
        description: [
          'Condition: High CPU',
          'Policy: Golden Signals',
          'Impacted entities: main_app-UBUNTU',
          'Incidents: 1',
        ].join('\n'),
        severity: 'critical',
        status: 'resolved',
        ci: 'main_app-UBUNTU',
        service: null,
        source: 'newrelic',
        // The default template's "id" is {{ issueId }}.
        fingerprint: 'newrelic:95a9344a-2590-48ce-8d83-07e28b6d22c6',
        labels: {
          issue_id: '95a9344a-2590-48ce-8d83-07e28b6d22c6',
          issue_url:
            'https://radar-api.service.newrelic.com/accounts/1/issues/0ea2df1c-adab-45d2-aae0-042b609d2322?notifier=SLACK',
          priority: 'CRITICAL',
          state: 'CLOSED',
          policy: 'Golden Signals',
          condition: 'High CPU',
          impacted_entities: 'main_app-UBUNTU',
          workflow: 'DBA Team workflow',
          sources: 'newrelic',
        },
        startsAt: '2024-04-22T06:16:30.228Z',
        // updatedAt: when it closed.
        endsAt: '2024-04-22T06:17:37.383Z',
      },
    ],
  },
  'workflow-default-issue-created.json': {
    kind: 'alerts',
    alerts: [
      {
        title: "MAIN-APP-UBUNTU query result is > 2.0 for 1 minutes on 'High CPU'",
        description: [
          'Condition: High CPU',
          'Policy: Golden Signals',
          'Impacted entities: MAIN-APP-UBUNTU',
          'Incidents: 1',
        ].join('\n'),
        severity: 'critical',
        status: 'firing',
        ci: 'MAIN-APP-UBUNTU',
        service: null,
        source: 'newrelic',
        fingerprint: 'newrelic:208c5e92-f250-40be-b7c2-50508c268c15',
        labels: {
          issue_id: '208c5e92-f250-40be-b7c2-50508c268c15',
          issue_url:
            'https://radar-api.service.newrelic.com/accounts/1/issues/0ea2df1c-adab-45d2-aae0-042b609d2322?notifier=SLACK',
          priority: 'CRITICAL',
          state: 'CREATED',
          policy: 'Golden Signals',
          condition: 'High CPU',
          impacted_entities: 'MAIN-APP-UBUNTU',
          workflow: 'DBA Team workflow',
          sources: 'newrelic',
        },
        startsAt: '2024-04-22T06:36:29.495Z',
        endsAt: null,
      },
    ],
  },
};

const workflow = (overrides: Record<string, unknown> = {}) => ({
  ...(parsePayload(readFixture(DIR, 'workflow-default-issue-created.json')) as Record<
    string,
    unknown
  >),
  ...overrides,
});

const legacy = (overrides: Record<string, unknown> = {}) => ({
  ...(parsePayload(readFixture(DIR, 'legacy-v1-incident-open.json')) as Record<string, unknown>),
  ...overrides,
});

const one = (result: Normalized) => (result.kind === 'alerts' ? result.alerts[0] : undefined);

describe('newrelic: fixtures', () => {
  it('has a case for every fixture', () => {
    expect(Object.keys(cases).sort()).toEqual(fixtureFiles(DIR));
  });
  it.each(Object.entries(cases))('%s', (file, expected) => {
    expect(normalizeFixture(newrelic, DIR, file)).toEqual(expected);
  });
});

describe('newrelic: workflows', () => {
  it.each([
    ['CREATED', 'firing'],
    ['ACTIVATED', 'firing'],
    ['ACKNOWLEDGED', 'firing'],
    ['CLOSED', 'resolved'],
    ['closed', 'resolved'],
  ])('maps state %s to %s', (state, status) => {
    expect(one(normalizeBody(newrelic, workflow({ state })))).toMatchObject({ status });
  });

  it('resolves an issue with the fingerprint it was opened with', () => {
    const opened = one(normalizeBody(newrelic, workflow({ state: 'ACTIVATED' })));
    const closed = one(
      normalizeBody(newrelic, workflow({ state: 'CLOSED', closedAt: 1713767849495 })),
    );
    expect(closed).toMatchObject({ status: 'resolved', endsAt: '2024-04-22T06:37:29.495Z' });
    expect(closed?.fingerprint).toBe(opened?.fingerprint);
  });

  it.each([
    ['CRITICAL', 'critical'],
    ['HIGH', 'major'],
    ['MEDIUM', 'minor'],
    ['LOW', 'warning'],
    [null, 'warning'],
  ])('maps priority %s to %s', (priority, severity) => {
    expect(one(normalizeBody(newrelic, workflow({ priority })))).toMatchObject({ severity });
  });

  it('reads a custom template: issueId, entitiesData and a description', () => {
    const body = {
      issueId: 'a1b2c3',
      issuePageUrl: 'https://one.newrelic.com/alerts-ai/issues/a1b2c3',
      title: 'Disk full on db-2',
      description: 'Free space below 5%',
      priority: 'HIGH',
      state: 'ACTIVATED',
      entitiesData: { names: ['db-2', 'db-3'], ids: ['MTIzfElORlJB'] },
      createdAt: 1767225600000,
    };
    expect(normalizeBody(newrelic, body)).toEqual({
      kind: 'alerts',
      alerts: [
        {
          title: 'Disk full on db-2',
          description: 'Free space below 5%\nImpacted entities: db-2, db-3',
          severity: 'major',
          status: 'firing',
          ci: 'db-2',
          service: null,
          source: 'newrelic',
          fingerprint: 'newrelic:a1b2c3',
          labels: {
            issue_id: 'a1b2c3',
            issue_url: 'https://one.newrelic.com/alerts-ai/issues/a1b2c3',
            priority: 'HIGH',
            state: 'ACTIVATED',
            impacted_entities: 'db-2, db-3',
          },
          startsAt: '2026-01-01T00:00:00.000Z',
          endsAt: null,
        },
      ],
    });
  });

  it('answers 422 when no issue id was mapped', () => {
    expect(normalizeBody(newrelic, workflow({ id: undefined }))).toEqual({
      kind: 'unprocessable',
      detail: 'The payload names no issue: map {{ json issueId }} to "id" (or "issueId").',
      pointer: '/id',
    });
  });

  it('names an untitled issue after its conditions', () => {
    expect(one(normalizeBody(newrelic, workflow({ title: '' })))).toMatchObject({
      title: 'High CPU',
    });
  });
});

describe('newrelic: legacy v1', () => {
  it.each([
    ['open', 'firing'],
    ['acknowledged', 'firing'],
    ['closed', 'resolved'],
  ])('maps current_state %s to %s', (current_state, status) => {
    expect(one(normalizeBody(newrelic, legacy({ current_state })))).toMatchObject({ status });
  });

  it.each([
    ['CRITICAL', 'critical'],
    ['WARNING', 'warning'],
    ['INFO', 'info'],
  ])('maps severity %s to %s', (severity, expected) => {
    expect(one(normalizeBody(newrelic, legacy({ severity })))).toMatchObject({
      severity: expected,
    });
  });

  it('takes the first target as CI and its labels as labels', () => {
    const result = one(
      normalizeBody(
        newrelic,
        legacy({
          incident_id: 12345,
          targets: [
            { id: '9', name: 'checkout-api', type: 'Application', labels: { env: 'prod' } },
          ],
        }),
      ),
    );
    expect(result).toMatchObject({
      ci: 'checkout-api',
      fingerprint: 'newrelic:12345',
      labels: { env: 'prod', target_type: 'Application', incident_id: '12345' },
    });
  });
});

describe('newrelic: shapes', () => {
  it.each([
    [{}, ['/state']],
    [{ state: 3 }, ['/state']],
    [{ state: 'CREATED', impactedEntities: 'a' }, ['/impactedEntities']],
    [{ current_state: 'open', targets: {} }, ['/targets']],
    [{ current_state: null }, ['/current_state']],
  ])('points at the bad fields of %j', (body, pointers) => {
    const result = normalizeBody(newrelic, body);
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.errors.map((e) => e.pointer)).toEqual(pointers);
  });

  it.each(
    [
      null,
      42,
      'x',
      true,
      [],
      {},
      { state: 'CLOSED' },
      { current_state: 'closed' },
      { state: 'CREATED', id: 'x', entitiesData: [] },
    ].map((body) => [body]),
  )('never throws on %j', (body) => {
    expect(['invalid', 'unprocessable', 'alerts']).toContain(normalizeBody(newrelic, body).kind);
  });
});
