import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Normalized } from '../../../ingest/normalize.ts';
import { parsePayload } from '../../../ingest/payload.ts';
import { opsgenie } from '../../../ingest/sources/opsgenie.ts';
import {
  fixtureFiles,
  normalizeBody,
  normalizeFixture,
  readFixture,
  expectWellFormed,
} from '../../support/fixtures.ts';

const DIR = 'opsgenie';

const cases: Record<string, Normalized> = {
  'alert-create.json': {
    kind: 'alerts',
    alerts: [
      {
        title: 'asdf',
        description: null,
        severity: 'minor',
        status: 'firing',
        ci: null,
        service: null,
        source: 'opsgenie',
        fingerprint: 'opsgenie:7ec331d7-f5f3-4f78-a49c-2ad886df69fe-1593475564295',
        labels: {
          opsgenie_alert_id: '7ec331d7-f5f3-4f78-a49c-2ad886df69fe-1593475564295',
          opsgenie_tiny_id: '8',
          opsgenie_alias: '7ec331d7-f5f3-4f78-a49c-2ad886df69fe-1593475564295',
          opsgenie_action: 'Create',
          opsgenie_priority: 'P3',
          opsgenie_source: 'kenaz@puppet.com',
          opsgenie_team: 'operations',
          opsgenie_user: 'kenaz@puppet.com',
          opsgenie_integration: 'operations_Webhook_2',
          opsgenie_updated_at: '1593475564636000000',
        },
        startsAt: '2020-06-30T00:06:04.295Z',
        endsAt: null,
      },
    ],
  },
  'alert-acknowledge.json': {
    kind: 'alerts',
    alerts: [
      {
        title: 'test alert',
        description: null,
        severity: 'minor',
        status: 'firing',
        ci: null,
        service: null,
        source: 'opsgenie',
        fingerprint: 'opsgenie:052652ac-5d1c-464a-812a-7dd18bbfba8c',
        labels: {
          tag1: '',
          tag2: '',
          opsgenie_alert_id: '052652ac-5d1c-464a-812a-7dd18bbfba8c',
          opsgenie_tiny_id: '23',
          opsgenie_alias: 'aliastest',
          opsgenie_action: 'Acknowledge',
          opsgenie_source: 'fili@ifountain.com',
          opsgenie_user: 'fili@ifountain.com',
          opsgenie_integration: 'Integration1',
          opsgenie_updated_at: '1420452224764002246',
        },
        startsAt: '2015-01-05T10:03:11.104Z',
        endsAt: null,
        partial: true,
      },
    ],
  },
  'alert-close.json': {
    kind: 'alerts',
    alerts: [
      {
        title: 'test alert',
        description: null,
        severity: 'minor',
        status: 'resolved',
        ci: null,
        service: null,
        source: 'opsgenie',
        fingerprint: 'opsgenie:052652ac-5d1c-464a-812a-7dd18bbfba8c',
        labels: {
          opsgenie_alert_id: '052652ac-5d1c-464a-812a-7dd18bbfba8c',
          opsgenie_tiny_id: '23',
          opsgenie_alias: 'aliastest',
          opsgenie_action: 'Close',
          opsgenie_source: 'fili@ifountain.com',
          opsgenie_user: 'fili@ifountain.com',
          opsgenie_integration: 'Integration1',
          opsgenie_updated_at: '1420452374669001603',
        },
        startsAt: '2015-01-05T10:03:11.104Z',
        // updatedAt, nanoseconds: when the alert was closed.
        endsAt: '2015-01-05T10:06:14.669Z',
        partial: true,
      },
    ],
  },
};

const fixture = (file: string) =>
  parsePayload(readFixture(DIR, file)) as Record<string, unknown> & {
    alert: Record<string, unknown>;
  };

/** The captured Create with its action and alert fields edited. */
function edited(action: string, alert: Record<string, unknown> = {}) {
  const body = fixture('alert-create.json');
  return { ...body, action, alert: { ...body.alert, ...alert } };
}

describe('opsgenie: fixtures', () => {
  it('has a case for every fixture', () => {
    expect(Object.keys(cases).sort()).toEqual(fixtureFiles(DIR));
  });
  it.each(Object.entries(cases))('%s', (file, expected) => {
    expect(normalizeFixture(opsgenie, DIR, file)).toEqual(expected);
  });
});

describe('opsgenie', () => {
  it('keeps nanosecond updatedAt exact where plain JSON.parse rounds it', () => {
    const raw = readFixture(DIR, 'alert-acknowledge.json');
    const rounded = (JSON.parse(raw) as { alert: { updatedAt: number } }).alert.updatedAt;
    expect(String(rounded)).not.toBe('1420452224764002246');
    expect(normalizeFixture(opsgenie, DIR, 'alert-acknowledge.json')).toMatchObject({
      alerts: [{ labels: { opsgenie_updated_at: '1420452224764002246' } }],
    });
  });

  it('gives every action on one alert the same fingerprint', () => {
    const fingerprints = ['alert-acknowledge.json', 'alert-close.json'].map((file) => {
      const result = normalizeFixture(opsgenie, DIR, file);
      return result.kind === 'alerts' ? result.alerts[0]?.fingerprint : result.kind;
    });
    expect(fingerprints).toEqual([
      'opsgenie:052652ac-5d1c-464a-812a-7dd18bbfba8c',
      'opsgenie:052652ac-5d1c-464a-812a-7dd18bbfba8c',
    ]);
  });

  it('reads a full Create: priority, entity, description, tags and details', () => {
    const result = normalizeBody(
      opsgenie,
      edited('Create', {
        priority: 'P1',
        entity: 'db-01',
        description: 'Replication lag above 10 minutes',
        tags: ['env:prod', 'database'],
        details: { runbook: 'https://wiki/lag', opsgenie_action: 'spoofed' },
      }),
    );
    expect(result).toMatchObject({
      kind: 'alerts',
      alerts: [
        {
          severity: 'critical',
          ci: 'db-01',
          description: 'Replication lag above 10 minutes',
          labels: {
            env: 'prod',
            database: '',
            runbook: 'https://wiki/lag',
            opsgenie_action: 'Create',
          },
        },
      ],
    });
    expect(result).not.toMatchObject({ alerts: [{ partial: true }] });
  });

  it.each([
    ['P1', 'critical'],
    ['P2', 'major'],
    ['P3', 'minor'],
    ['P4', 'warning'],
    ['P5', 'info'],
    [null, 'minor'],
    ['constructor', 'minor'],
  ])('maps priority %s to %s', (priority, severity) => {
    expect(normalizeBody(opsgenie, edited('Create', { priority }))).toMatchObject({
      alerts: [{ severity }],
    });
  });

  it('resolves on Delete as on Close, as a partial update', () => {
    expect(normalizeBody(opsgenie, edited('Delete'))).toMatchObject({
      alerts: [{ status: 'resolved', partial: true, endsAt: '2020-06-30T00:06:04.636Z' }],
    });
  });

  it.each(['UnAcknowledge', 'Snooze', 'SnoozeEnded', 'EscalateToNext'])(
    'keeps the alert firing on %s, as a partial update',
    (action) => {
      expect(normalizeBody(opsgenie, edited(action))).toMatchObject({
        alerts: [{ status: 'firing', partial: true, labels: { opsgenie_action: action } }],
      });
    },
  );

  it.each(['AddNote', 'AddTags', 'AssignOwnership', 'UpdatePriority', 'RestartServer'])(
    'accepts %s, which carries no state (and may follow a Close), with no alert',
    (action) => {
      expect(normalizeBody(opsgenie, edited(action))).toEqual({ kind: 'alerts', alerts: [] });
    },
  );

  it('names an alert without a message after its alias', () => {
    expect(
      normalizeBody(opsgenie, edited('Create', { message: '', alias: 'disk-db-01' })),
    ).toMatchObject({ alerts: [{ title: 'disk-db-01' }] });
  });

  it.each([
    [{}, ['/action', '/alert']],
    [{ action: 'Create' }, ['/alert']],
    [{ action: 'Create', alert: {} }, ['/alert/alertId']],
    [{ action: '', alert: { alertId: 'a' } }, ['/action']],
    [{ action: 'Create', alert: { alertId: 'a', tags: 'x,y' } }, ['/alert/tags']],
    [{ action: 'Create', alert: { alertId: 'a', tags: ['ok', 3] } }, ['/alert/tags/1']],
    [{ action: 'Create', alert: { alertId: 'a', updatedAt: true } }, ['/alert/updatedAt']],
  ])('points at the bad fields of %j', (body, pointers) => {
    const result = normalizeBody(opsgenie, body);
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
      { alert: null },
      { action: 'Close', alert: [] },
      { action: 'Close', alert: { alertId: 'a', details: [1, 2], createdAt: 'soon' } },
    ].map((body) => [body]),
  )('never throws on %j', (body) => {
    const result = normalizeBody(opsgenie, body);
    expect(['invalid', 'alerts']).toContain(result.kind);
  });

  it('answers any body with a well-formed outcome', () => {
    const wellFormed = (result: Normalized) => expectWellFormed(result);
    fc.assert(fc.property(fc.anything(), (body) => wellFormed(normalizeBody(opsgenie, body))));
    fc.assert(
      fc.property(
        fc.constantFrom('Create', 'Acknowledge', 'Close', 'AddNote', 'close'),
        fc.dictionary(fc.string(), fc.jsonValue()),
        (action, alert) => wellFormed(normalizeBody(opsgenie, edited(action, alert))),
      ),
    );
  });
});
