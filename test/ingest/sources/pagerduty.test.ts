import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../correlator/alert.ts';
import type { Normalized } from '../../../ingest/normalize.ts';
import { parsePayload } from '../../../ingest/payload.ts';
import { pagerduty } from '../../../ingest/sources/pagerduty.ts';
import {
  fixtureFiles,
  normalizeBody,
  normalizeFixture,
  readFixture,
  RECEIVED_AT,
  expectWellFormed,
} from '../../support/fixtures.ts';

const EVENTS = 'pagerduty-events-v2';
const WEBHOOK = 'pagerduty-webhook-v3';
const RECEIVED = RECEIVED_AT.toISOString();

const eventsCases: Record<string, Normalized> = {
  'acknowledge.json': {
    kind: 'alerts',
    alerts: [
      {
        title: 'dedupkeyhere',
        description: null,
        severity: 'warning',
        status: 'firing',
        ci: null,
        service: null,
        source: 'pagerduty',
        fingerprint: 'pagerduty:dedupkeyhere',
        labels: { pagerduty_dedup_key: 'dedupkeyhere', pagerduty_event_action: 'acknowledge' },
        startsAt: RECEIVED,
        endsAt: null,
        partial: true,
      },
    ],
  },
  'resolve.json': {
    kind: 'alerts',
    alerts: [
      {
        title: 'dedupkeyhere',
        description: null,
        severity: 'warning',
        status: 'resolved',
        ci: null,
        service: null,
        source: 'pagerduty',
        fingerprint: 'pagerduty:dedupkeyhere',
        labels: { pagerduty_dedup_key: 'dedupkeyhere', pagerduty_event_action: 'resolve' },
        startsAt: RECEIVED,
        endsAt: RECEIVED,
        partial: true,
      },
    ],
  },
  'trigger-full-payload.json': {
    kind: 'alerts',
    alerts: [
      {
        title: 'Example alert on host1.example.com',
        description: 'ping time: 1500ms\nload avg: 0.75\n\nLink text (https://example.com/)',
        severity: 'info',
        status: 'firing',
        ci: 'monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003',
        service: null,
        source: 'pagerduty',
        fingerprint: 'pagerduty:samplekeyhere',
        labels: {
          component: 'postgres',
          group: 'prod-datapipe',
          class: 'deploy',
          client: 'Sample Monitoring Service',
          client_url: 'https://monitoring.example.com',
          pagerduty_dedup_key: 'samplekeyhere',
          pagerduty_event_action: 'trigger',
        },
        startsAt: '2015-07-17T08:42:58.315Z',
        endsAt: null,
      },
    ],
  },
  'trigger-openapi-example.json': {
    kind: 'alerts',
    alerts: [
      {
        title: 'DISK at 99% on machine prod-datapipe03.example.com',
        description:
          'free space: 1%\nping time: 1500ms\nload avg: 0.75\n\nAn example link. (http://pagerduty.example.com)',
        severity: 'critical',
        status: 'firing',
        ci: 'prod-datapipe03.example.com',
        service: null,
        source: 'pagerduty',
        fingerprint: 'pagerduty:srv01/mysql',
        labels: {
          component: 'mysql',
          group: 'prod-datapipe',
          class: 'disk',
          client: 'Sample Monitoring Service',
          client_url: 'https://monitoring.service.com',
          pagerduty_dedup_key: 'srv01/mysql',
          pagerduty_event_action: 'trigger',
        },
        startsAt: '2015-07-17T08:42:58.315Z',
        endsAt: null,
      },
    ],
  },
};

const priorityUpdated: Alert = {
  title: 'A little bump in the road',
  description: null,
  severity: 'critical',
  status: 'firing',
  ci: null,
  service: 'API Service',
  source: 'pagerduty',
  fingerprint: 'pagerduty:incident:PGR0VU2',
  labels: {
    pagerduty_incident_id: 'PGR0VU2',
    pagerduty_incident_number: '2',
    pagerduty_incident_url: 'https://acme.pagerduty.com/incidents/PGR0VU2',
    pagerduty_incident_key: 'd3640fbd41094207a1c11e58e46b1662',
    pagerduty_status: 'triggered',
    pagerduty_urgency: 'high',
    pagerduty_priority: 'P1',
    pagerduty_service_id: 'PF9KMXH',
    pagerduty_escalation_policy: 'Default',
    pagerduty_teams: 'Engineering',
    pagerduty_assignees: 'User 123',
    pagerduty_event_type: 'incident.priority_updated',
  },
  startsAt: '2020-04-09T15:16:27.000Z',
  endsAt: null,
};

const webhookCases: Record<string, Normalized> = {
  'incident-priority-updated.json': {
    kind: 'alerts',
    alerts: [priorityUpdated],
    deliveryId: '5ac64822-4adc-4fda-ade0-410becf0de4f',
  },
};

/** The V3 fixture with its event (and incident) edited. */
function webhook(
  event: Record<string, unknown>,
  incident: Record<string, unknown> = {},
): Record<string, unknown> {
  const body = parsePayload(readFixture(WEBHOOK, 'incident-priority-updated.json')) as {
    event: Record<string, unknown> & { data: Record<string, unknown> };
  };
  return { event: { ...body.event, ...event, data: { ...body.event.data, ...incident } } };
}

const trigger = (payload: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  routing_key: 'R0UT1NGKEY',
  event_action: 'trigger',
  payload: { summary: 'Disk full', source: 'db-1', severity: 'error', ...payload },
  ...extra,
});

describe('pagerduty: Events API v2 fixtures', () => {
  it('has a case for every fixture', () => {
    expect(Object.keys(eventsCases).sort()).toEqual(fixtureFiles(EVENTS));
  });
  it.each(Object.entries(eventsCases))('%s', (file, expected) => {
    expect(normalizeFixture(pagerduty, EVENTS, file)).toEqual(expected);
  });
});

describe('pagerduty: webhook V3 fixtures', () => {
  it('has a case for every fixture', () => {
    expect(Object.keys(webhookCases).sort()).toEqual(fixtureFiles(WEBHOOK));
  });
  it.each(Object.entries(webhookCases))('%s', (file, expected) => {
    expect(normalizeFixture(pagerduty, WEBHOOK, file)).toEqual(expected);
  });
});

describe('pagerduty: Events API v2', () => {
  it('gives the acknowledge and resolve of a trigger its fingerprint', () => {
    const fingerprints = ['trigger-full-payload.json', 'acknowledge.json', 'resolve.json'].map(
      (file) => {
        const body = parsePayload(readFixture(EVENTS, file)) as Record<string, unknown>;
        const result = normalizeBody(pagerduty, { ...body, dedup_key: 'same-key' });
        return result.kind === 'alerts' ? result.alerts[0]?.fingerprint : result.kind;
      },
    );
    expect(fingerprints).toEqual([
      'pagerduty:same-key',
      'pagerduty:same-key',
      'pagerduty:same-key',
    ]);
  });

  it('derives one fingerprint for repeats of a trigger without dedup_key', () => {
    const first = normalizeBody(
      pagerduty,
      trigger({ timestamp: '2026-01-01T00:00:00Z', custom_details: { used: '97%' } }),
    );
    const again = normalizeBody(
      pagerduty,
      trigger({ timestamp: '2026-01-01T00:05:00Z', custom_details: { used: '99%' } }),
    );
    const other = normalizeBody(pagerduty, trigger({ summary: 'Disk slow' }));
    const fingerprint = (r: Normalized) => (r.kind === 'alerts' ? r.alerts[0]?.fingerprint : '');
    expect(fingerprint(first)).toMatch(/^[0-9a-f]{32}$/);
    expect(fingerprint(again)).toBe(fingerprint(first));
    expect(fingerprint(other)).not.toBe(fingerprint(first));
    expect(first).toMatchObject({
      alerts: [{ labels: { pagerduty_event_action: 'trigger' }, severity: 'major', ci: 'db-1' }],
    });
  });

  it('never copies the routing key, a credential, into the alert', () => {
    const result = normalizeBody(pagerduty, trigger({}, { dedup_key: 'k' }));
    expect(result.kind).toBe('alerts');
    expect(JSON.stringify(result)).not.toContain('R0UT1NGKEY');
  });

  it.each([
    ['critical', 'critical'],
    ['error', 'major'],
    ['warning', 'warning'],
    ['info', 'info'],
    ['WARNING', 'warning'],
    ['apocalyptic', 'warning'],
    ['constructor', 'warning'],
  ])('maps payload.severity %s to %s', (severity, expected) => {
    expect(normalizeBody(pagerduty, trigger({ severity }))).toMatchObject({
      alerts: [{ severity: expected }],
    });
  });

  it('reads string custom_details and ignores malformed links', () => {
    const result = normalizeBody(
      pagerduty,
      trigger({ custom_details: 'see runbook' }, { links: [{ text: 'no href' }] }),
    );
    expect(result).toMatchObject({ alerts: [{ description: 'see runbook' }] });
  });

  it.each([
    [{}, '/event_action'],
    [{ event_action: 'explode', dedup_key: 'k' }, '/event_action'],
    [{ event_action: 'trigger' }, '/payload'],
    [{ event_action: 'trigger', payload: {} }, '/payload/summary'],
    [{ event_action: 'trigger', payload: { summary: '  ' } }, '/payload/summary'],
    [{ event_action: 'trigger', payload: { summary: 's', source: 42 } }, '/payload/source'],
    [{ event_action: 'trigger', dedup_key: 7, payload: { summary: 's' } }, '/dedup_key'],
    [{ event_action: 'resolve' }, '/dedup_key'],
    [{ event_action: 'acknowledge', dedup_key: ' ' }, '/dedup_key'],
  ])('points at the bad field of %j', (body, pointer) => {
    const result = normalizeBody(pagerduty, body);
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.errors.map((e) => e.pointer)).toContain(pointer);
  });

  it('answers an Events API v1 body and a V2 webhook with what to change', () => {
    expect(
      normalizeBody(pagerduty, { service_key: 'k', event_type: 'trigger', description: 'x' }),
    ).toMatchObject({ kind: 'unprocessable', pointer: '/service_key' });
    expect(normalizeBody(pagerduty, { messages: [{ event: 'incident.trigger' }] })).toMatchObject({
      kind: 'unprocessable',
      pointer: '/messages',
    });
  });
});

describe('pagerduty: webhook V3', () => {
  it('resolves the incident on incident.resolved, ending when it occurred', () => {
    const result = normalizeBody(
      pagerduty,
      webhook(
        { id: 'evt-2', event_type: 'incident.resolved', occurred_at: '2020-10-02T19:00:00.000Z' },
        { status: 'resolved', resolve_reason: null },
      ),
    );
    expect(result).toEqual({
      kind: 'alerts',
      alerts: [
        {
          ...priorityUpdated,
          status: 'resolved',
          endsAt: '2020-10-02T19:00:00.000Z',
          labels: {
            ...priorityUpdated.labels,
            pagerduty_status: 'resolved',
            pagerduty_event_type: 'incident.resolved',
          },
        },
      ],
      deliveryId: 'evt-2',
    });
  });

  it('keeps an incident acknowledged on a later event firing, with the same fingerprint', () => {
    const result = normalizeBody(
      pagerduty,
      webhook({ event_type: 'incident.acknowledged' }, { status: 'acknowledged' }),
    );
    expect(result).toMatchObject({
      alerts: [{ status: 'firing', fingerprint: 'pagerduty:incident:PGR0VU2', endsAt: null }],
    });
  });

  it.each([
    [{ summary: 'P3' }, 'high', 'minor'],
    [{ summary: 'P5' }, 'high', 'info'],
    [{ summary: 'SEV-1' }, 'high', 'major'],
    [null, 'high', 'major'],
    [null, 'low', 'warning'],
  ])('maps priority %j with urgency %s to %s', (priority, urgency, severity) => {
    expect(normalizeBody(pagerduty, webhook({}, { priority, urgency }))).toMatchObject({
      alerts: [{ severity }],
    });
  });

  it('accepts events that say nothing of the incident state, with no alert', () => {
    const note = {
      event: {
        id: 'evt-3',
        event_type: 'incident.annotated',
        resource_type: 'incident',
        occurred_at: '2020-10-02T18:45:22.169Z',
        agent: null,
        client: null,
        data: {
          incident: { id: 'PGR0VU2', type: 'incident_reference' },
          id: 'P2LA89X',
          content: 'I sure am glad we are using PagerDuty!',
          trimmed: false,
          type: 'incident_note',
        },
      },
    };
    expect(normalizeBody(pagerduty, note)).toEqual({
      kind: 'alerts',
      alerts: [],
      deliveryId: 'evt-3',
    });
  });

  it.each([
    [webhook({ id: undefined }), '/event/id'],
    [webhook({}, { id: 42 }), '/event/data/id'],
    [webhook({}, { teams: 'Engineering' }), '/event/data/teams'],
    [{ event: { event_type: 'incident.triggered', data: { type: 'incident' } } }, '/event/id'],
  ])('points at the bad field of a V3 webhook (%#)', (body, pointer) => {
    const result = normalizeBody(pagerduty, body);
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.errors.map((e) => e.pointer)).toContain(pointer);
  });
});

describe('pagerduty: any JSON value', () => {
  it.each(
    [
      null,
      42,
      'x',
      true,
      [],
      [{ event_action: 'trigger' }],
      {},
      { payload: null },
      { event: null },
      { event: { event_type: null } },
      { event: { id: 'e', event_type: 'incident.triggered', data: [] } },
      { event_action: 'trigger', payload: { summary: 's', custom_details: [[{}]] }, links: 'x' },
      { messages: 'x' },
    ].map((body) => [body]),
  )('never throws on %j', (body) => {
    const result = normalizeBody(pagerduty, body);
    expect(['invalid', 'unprocessable', 'alerts']).toContain(result.kind);
    if (result.kind === 'invalid') expect(result.errors.length).toBeGreaterThan(0);
  });

  it('answers any body with a well-formed outcome', () => {
    const wellFormed = (result: Normalized) =>
      expectWellFormed(result, ['alerts', 'invalid', 'unprocessable']);
    const fields = fc.dictionary(fc.string(), fc.jsonValue());
    fc.assert(fc.property(fc.anything(), (body) => wellFormed(normalizeBody(pagerduty, body))));
    fc.assert(
      fc.property(
        fc.constantFrom('trigger', 'acknowledge', 'resolve'),
        fc.jsonValue(),
        fields,
        fields,
        (event_action, dedup_key, payload, extra) =>
          wellFormed(
            normalizeBody(pagerduty, {
              ...extra,
              event_action,
              dedup_key,
              payload: { summary: 's', ...payload },
            }),
          ),
      ),
    );
    fc.assert(
      fc.property(fields, fields, (event, incident) =>
        wellFormed(normalizeBody(pagerduty, webhook(event, incident))),
      ),
    );
  });
});
