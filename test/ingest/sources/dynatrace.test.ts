import { describe, expect, it } from 'vitest';
import type { Normalized } from '../../../ingest/normalize.ts';
import { parsePayload } from '../../../ingest/payload.ts';
import { dynatrace } from '../../../ingest/sources/dynatrace.ts';
import {
  fixtureFiles,
  normalizeBody,
  normalizeFixture,
  readFixture,
  RECEIVED_AT,
} from '../../support/fixtures.ts';

const DIR = 'dynatrace';

const EASYTRAVEL_ENTITIES = [
  'www.easytravel.com (APPLICATION)',
  'CouchDB_ET (PROCESS_GROUP_INSTANCE)',
  'CouchDB_ET on port 5984 (SERVICE)',
  'easyTravel Customer Frontend (SERVICE)',
  'EasyTravelWebserver:18079 (SERVICE)',
].join(', ');
const EASYTRAVEL_IDS = [
  'APPLICATION-08EBD5603755FA87',
  'PROCESS_GROUP_INSTANCE-769FDDE57854E59C',
  'SERVICE-647148447FC4DDD2',
  'SERVICE-9F3CCA917EA0080A',
  'SERVICE-7A68C3A53D9236A5',
].join(',');

const cases: Record<string, Normalized> = {
  'problem-open.json': {
    kind: 'alerts',
    alerts: [
      {
        title: '2 application problems',
        description: `2 application problems for Application www.easytravel.com\nImpacted entities: ${EASYTRAVEL_ENTITIES}`,
        // No ProblemSeverity in this template.
        severity: 'warning',
        status: 'firing',
        ci: 'www.easytravel.com',
        service: null,
        source: 'dynatrace',
        fingerprint: 'dynatrace:324',
        labels: {
          CouchDB: '',
          autoremediation: '',
          problem_id: '324',
          pid: '1724771582765390602',
          impacted_entities: EASYTRAVEL_IDS,
        },
        // No start time in the body: receipt.
        startsAt: RECEIVED_AT.toISOString(),
        endsAt: null,
      },
    ],
  },
  'problem-closed.json': {
    kind: 'alerts',
    alerts: [
      {
        title: '2 application problems',
        description: `2 application problems for Application www.easytravel.com\nImpacted entities: ${EASYTRAVEL_ENTITIES}`,
        severity: 'warning',
        status: 'resolved',
        ci: 'www.easytravel.com',
        service: null,
        source: 'dynatrace',
        // The PID differs from the open notification's; the ProblemID, which keys it, does not.
        fingerprint: 'dynatrace:324',
        labels: {
          CouchDB: '',
          autoremediation: '',
          problem_id: '324',
          pid: '5928653535240633324',
          impacted_entities: EASYTRAVEL_IDS,
        },
        startsAt: RECEIVED_AT.toISOString(),
        endsAt: RECEIVED_AT.toISOString(),
      },
    ],
  },
  'problem-test-notification-unreplaced-placeholders.json': {
    kind: 'alerts',
    alerts: [
      {
        title: 'Dynatrace problem notification test run',
        description:
          'Dynatrace problem notification test run details\nTest run\nImpacted entities: MyHost1 (HOST), MyService1 (SERVICE)',
        severity: 'warning',
        status: 'firing',
        ci: 'MyHost1',
        service: null,
        source: 'dynatrace',
        fingerprint: 'dynatrace:TESTID',
        // "{PID}" and "{Tags}" were never filled in: no pid label, no tag labels.
        labels: {
          problem_id: 'TESTID',
          impacted_entities: 'HOST-XXXXXXXXXXXXX,SERVICE-XXXXXXXXXXXXX',
        },
        startsAt: RECEIVED_AT.toISOString(),
        endsAt: null,
      },
    ],
  },
  'problem-resolved-keptn-cloudevent.json': {
    kind: 'alerts',
    alerts: [
      {
        title: 'Browser monitor global outage',
        description:
          'Browser monitor global outage for Synthetic monitor Third Party Monitor\nImpacted entities: Third Party Monitor (SYNTHETIC_TEST)',
        // ProblemDetails.severityLevel AVAILABILITY.
        severity: 'critical',
        status: 'resolved',
        ci: 'Third Party Monitor',
        service: 'carts',
        source: 'dynatrace',
        fingerprint: 'dynatrace:P-22013994',
        labels: {
          problem_id: 'P-22013994',
          pid: '-6478017825120311599_1641223491837V2',
          problem_url:
            'https://test.com/#problems/problemdetails;pid=-6478017825120311599_1641223491837V2',
          problem_impact: 'APPLICATION',
          problem_severity: 'AVAILABILITY',
          impacted_entities: 'SYNTHETIC_TEST-7DA5E1111C898644',
          keptn_project: 'shop',
          keptn_stage: 'production',
          keptn_service: 'carts',
        },
        // ProblemDetails.startTime and endTime, epoch ms.
        startsAt: '2022-01-03T15:24:51.837Z',
        endsAt: '2022-01-03T15:29:26.597Z',
      },
    ],
    // The CloudEvent's source/id.
    deliveryId: 'dynatrace/ed5566ef-8c28-4b23-ad3e-03fc5ee41688',
  },
};

const fixture = (file: string) =>
  parsePayload(readFixture(DIR, file)) as Record<string, unknown> & {
    data: Record<string, unknown>;
  };

const open = (overrides: Record<string, unknown> = {}) => ({
  ...fixture('problem-open.json'),
  ...overrides,
});

const one = (result: Normalized) => (result.kind === 'alerts' ? result.alerts[0] : undefined);

describe('dynatrace: fixtures', () => {
  it('has a case for every fixture', () => {
    expect(Object.keys(cases).sort()).toEqual(fixtureFiles(DIR));
  });
  it.each(Object.entries(cases))('%s', (file, expected) => {
    expect(normalizeFixture(dynatrace, DIR, file)).toEqual(expected);
  });
});

describe('dynatrace', () => {
  it('resolves the open problem: same fingerprint although the PID changed', () => {
    const opened = one(normalizeFixture(dynatrace, DIR, 'problem-open.json'));
    const closed = one(normalizeFixture(dynatrace, DIR, 'problem-closed.json'));
    expect(opened?.labels.pid).not.toBe(closed?.labels.pid);
    expect([opened?.status, closed?.status]).toEqual(['firing', 'resolved']);
    expect(closed?.fingerprint).toBe(opened?.fingerprint);
  });

  it('keys by PID when the template has no ProblemID', () => {
    expect(one(normalizeBody(dynatrace, open({ ProblemID: undefined })))).toMatchObject({
      fingerprint: 'dynatrace:1724771582765390602',
    });
  });

  it.each([
    ['OPEN', 'firing'],
    ['RESOLVED', 'resolved'],
    ['CLOSED', 'resolved'],
    ['MERGED', 'resolved'],
    ['resolved', 'resolved'],
  ])('maps State %s to %s', (State, status) => {
    expect(one(normalizeBody(dynatrace, open({ State })))).toMatchObject({ status });
  });

  it.each([
    ['AVAILABILITY', 'critical'],
    ['ERROR', 'major'],
    ['PERFORMANCE', 'minor'],
    ['RESOURCE_CONTENTION', 'minor'],
    ['CUSTOM_ALERT', 'warning'],
    ['MONITORING_UNAVAILABLE', 'warning'],
    ['INFO', 'info'],
    ['{ProblemSeverity}', 'warning'],
  ])('maps ProblemSeverity %s to %s', (ProblemSeverity, severity) => {
    expect(one(normalizeBody(dynatrace, open({ ProblemSeverity })))).toMatchObject({ severity });
  });

  it('treats any unfilled {Placeholder} as absent, even where a list is expected', () => {
    const result = normalizeBody(dynatrace, {
      State: 'OPEN',
      ProblemID: 'P-1',
      ProblemTitle: 'CPU saturation',
      ImpactedEntities: '{ImpactedEntities}',
      ProblemDetailsJSON: '{ProblemDetailsJSON}',
      ProblemURL: '{ProblemURL}',
      Tags: '{Tags}',
    });
    expect(result).toEqual({
      kind: 'alerts',
      alerts: [
        {
          title: 'CPU saturation',
          description: null,
          severity: 'warning',
          status: 'firing',
          ci: null,
          service: null,
          source: 'dynatrace',
          fingerprint: 'dynatrace:P-1',
          labels: { problem_id: 'P-1' },
          startsAt: RECEIVED_AT.toISOString(),
          endsAt: null,
        },
      ],
    });
  });

  it('reads the default template: "Problem URL", ProblemImpact, ProblemDetailsJSON and its tags', () => {
    const result = normalizeBody(dynatrace, {
      State: 'RESOLVED',
      ProblemID: 'P-2207',
      PID: '-123_456V2',
      ProblemTitle: 'Response time degradation',
      ProblemImpact: 'SERVICE',
      'Problem URL': 'https://abc12345.live.dynatrace.com/#problems/problemdetails;pid=-123_456V2',
      ProblemDetailsText: 'Response time 2 s above baseline',
      ImpactedEntities: [{ type: 'SERVICE', name: 'checkout', entity: 'SERVICE-1' }],
      Tags: '[Kubernetes]app:checkout, env:prod',
      ProblemDetailsJSON: {
        startTime: 1767225600000,
        endTime: 1767226500000,
        severityLevel: 'PERFORMANCE',
        tagsOfAffectedEntities: [{ context: 'CONTEXTLESS', key: 'team', value: 'payments' }],
      },
    });
    expect(result).toEqual({
      kind: 'alerts',
      alerts: [
        {
          title: 'Response time degradation',
          description: 'Response time 2 s above baseline\nImpacted entities: checkout (SERVICE)',
          severity: 'minor',
          status: 'resolved',
          ci: 'checkout',
          service: null,
          source: 'dynatrace',
          fingerprint: 'dynatrace:P-2207',
          labels: {
            '[Kubernetes]app': 'checkout',
            env: 'prod',
            team: 'payments',
            problem_id: 'P-2207',
            pid: '-123_456V2',
            problem_url:
              'https://abc12345.live.dynatrace.com/#problems/problemdetails;pid=-123_456V2',
            problem_impact: 'SERVICE',
            problem_severity: 'PERFORMANCE',
            impacted_entities: 'SERVICE-1',
          },
          startsAt: '2026-01-01T00:00:00.000Z',
          endsAt: '2026-01-01T00:15:00.000Z',
        },
      ],
    });
  });

  it('does not end an open problem at endTime -1', () => {
    expect(
      one(
        normalizeBody(
          dynatrace,
          open({ ProblemDetailsJSON: { startTime: 1767225600000, endTime: -1 } }),
        ),
      ),
    ).toMatchObject({ status: 'firing', startsAt: '2026-01-01T00:00:00.000Z', endsAt: null });
  });

  it('derives one fingerprint for open and resolved when the template sends no id', () => {
    const base = { ProblemTitle: 'Disk full', ImpactedEntities: [{ name: 'db-1' }] };
    const opened = one(normalizeBody(dynatrace, { ...base, State: 'OPEN' }));
    const resolved = one(normalizeBody(dynatrace, { ...base, State: 'RESOLVED' }));
    expect(resolved?.fingerprint).toBe(opened?.fingerprint);
    expect(opened?.fingerprint).toMatch(/^[0-9a-f]{32}$/);
  });

  it('points into a Keptn CloudEvent’s data', () => {
    const event = fixture('problem-resolved-keptn-cloudevent.json');
    const result = normalizeBody(dynatrace, { ...event, data: { ...event.data, State: 7 } });
    expect(result).toEqual({
      kind: 'invalid',
      errors: [{ pointer: '/data/State', detail: expect.any(String) as string }],
    });
  });

  it.each([
    [{}, ['/State']],
    [{ State: 1 }, ['/State']],
    [{ State: 'OPEN', ImpactedEntities: 'www' }, ['/ImpactedEntities']],
    [{ State: 'OPEN', ImpactedEntities: [{ name: 5 }] }, ['/ImpactedEntities/0/name']],
    [{ State: 'OPEN', Tags: 5 }, ['/Tags']],
    [{ specversion: '1.0', id: 'a', source: 's', data: 'x' }, ['/data']],
    [{ specversion: '1.0', id: 'a', source: 's', data: {} }, ['/data/State']],
  ])('points at the bad fields of %j', (body, pointers) => {
    const result = normalizeBody(dynatrace, body);
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.errors.map((e) => e.pointer)).toEqual(pointers);
  });

  it.each(
    [
      null,
      42,
      'x',
      false,
      [],
      {},
      { State: '{State}' },
      { specversion: null },
      { State: 'OPEN', ProblemDetails: [] },
      { State: 'OPEN', ProblemDetailsJSON: { startTime: 'soon' } },
    ].map((body) => [body]),
  )('never throws on %j', (body) => {
    expect(['invalid', 'alerts']).toContain(normalizeBody(dynatrace, body).kind);
  });
});
