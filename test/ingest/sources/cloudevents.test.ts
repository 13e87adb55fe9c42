import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../correlator/alert.ts';
import type { Normalized } from '../../../ingest/normalize.ts';
import { cloudevents } from '../../../ingest/sources/cloudevents.ts';
import { normalizeBody, expectWellFormed } from '../../support/fixtures.ts';

// No CloudEvents sender was captured, so the bodies below are the CloudEvents 1.0 spec's own
// examples, copied value for value from cloudevents/spec `cloudevents/formats/json-format.md`
// (commit 0b058d07a816): §3.2 "Examples" (one event, sent in structured mode) and §4.3 (a batch).

/** §3.2: an event with binary data, carried base64 in `data_base64`. */
const binaryEvent = {
  specversion: '1.0',
  type: 'com.example.someevent',
  source: '/mycontext',
  id: 'A234-1234-1234',
  time: '2018-04-05T17:31:00Z',
  comexampleextension1: 'value',
  comexampleothervalue: 5,
  datacontenttype: 'application/vnd.apache.thrift.binary',
  data_base64: '... base64 encoded string ...',
};

/** §3.2: an XML document as string data. */
const xmlEvent = {
  specversion: '1.0',
  type: 'com.example.someevent',
  source: '/mycontext',
  id: 'B234-1234-1234',
  time: '2018-04-05T17:31:00Z',
  comexampleextension1: 'value',
  comexampleothervalue: 5,
  unsetextension: null,
  datacontenttype: 'application/xml',
  data: '<much wow="xml"/>',
};

/** §3.2: a JSON object as data. */
const jsonEvent = {
  specversion: '1.0',
  type: 'com.example.someevent',
  source: '/mycontext',
  subject: null,
  id: 'C234-1234-1234',
  time: '2018-04-05T17:31:00Z',
  comexampleextension1: 'value',
  comexampleothervalue: 5,
  datacontenttype: 'application/json',
  data: { appinfoA: 'abc', appinfoB: 123, appinfoC: true },
};

/** §3.2: a JSON string as data, without datacontenttype. */
const stringEvent = {
  specversion: '1.0',
  type: 'com.example.someevent',
  source: '/mycontext',
  subject: null,
  id: 'D234-1234-1234',
  time: '2018-04-05T17:31:00Z',
  comexampleextension1: 'value',
  comexampleothervalue: 5,
  data: "I'm just a string",
};

/** §4.3: a batch of two events, the first with binary data, the second with JSON data. */
const batch = [
  {
    specversion: '1.0',
    type: 'com.example.someevent',
    source: '/mycontext/4',
    id: 'B234-1234-1234',
    time: '2018-04-05T17:31:00Z',
    comexampleextension1: 'value',
    comexampleothervalue: 5,
    datacontenttype: 'application/vnd.apache.thrift.binary',
    data_base64: '... base64 encoded string ...',
  },
  {
    specversion: '1.0',
    type: 'com.example.someotherevent',
    source: '/mycontext/9',
    id: 'C234-1234-1234',
    time: '2018-04-05T17:31:05Z',
    comexampleextension1: 'value',
    comexampleothervalue: 5,
    datacontenttype: 'application/json',
    data: { appinfoA: 'abc', appinfoB: 123, appinfoC: true },
  },
];

const STRUCTURED = { 'Content-Type': 'application/cloudevents+json; charset=utf-8' };
const BATCH = { 'Content-Type': 'application/cloudevents-batch+json' };

/** What every spec example has in common: no subject, so one alert per source and type. */
const specAlert = (fields: Partial<Alert>): Alert => ({
  title: 'com.example.someevent',
  description: null,
  severity: 'warning',
  status: 'firing',
  ci: null,
  service: null,
  source: 'cloudevents',
  // Derived from source, title and the ce_* labels (the event has no subject to key by).
  fingerprint: 'f536b58b318d99be91f7117f686ee76f',
  labels: { ce_source: '/mycontext', ce_type: 'com.example.someevent' },
  startsAt: '2018-04-05T17:31:00.000Z',
  endsAt: null,
  ...fields,
});

const cases: Record<
  string,
  { body: unknown; headers: Record<string, string>; expected: Normalized }
> = {
  'structured: binary data (data_base64)': {
    body: binaryEvent,
    headers: STRUCTURED,
    expected: {
      kind: 'alerts',
      alerts: [specAlert({ description: '(binary data, application/vnd.apache.thrift.binary)' })],
      deliveryId: '/mycontext/A234-1234-1234',
    },
  },
  'structured: XML string data': {
    body: xmlEvent,
    headers: STRUCTURED,
    expected: {
      kind: 'alerts',
      alerts: [specAlert({ description: '<much wow="xml"/>' })],
      deliveryId: '/mycontext/B234-1234-1234',
    },
  },
  'structured: JSON object data': {
    body: jsonEvent,
    headers: STRUCTURED,
    expected: {
      kind: 'alerts',
      alerts: [
        specAlert({
          description: '{\n  "appinfoA": "abc",\n  "appinfoB": 123,\n  "appinfoC": true\n}',
        }),
      ],
      deliveryId: '/mycontext/C234-1234-1234',
    },
  },
  'structured: JSON string data, no datacontenttype': {
    body: stringEvent,
    headers: STRUCTURED,
    expected: {
      kind: 'alerts',
      alerts: [specAlert({ description: "I'm just a string" })],
      deliveryId: '/mycontext/D234-1234-1234',
    },
  },
  'batch: binary and JSON events': {
    body: batch,
    headers: BATCH,
    expected: {
      kind: 'alerts',
      alerts: [
        specAlert({
          description: '(binary data, application/vnd.apache.thrift.binary)',
          fingerprint: 'fcb95111c9968337ab07bacc5b0b2c72',
          labels: { ce_source: '/mycontext/4', ce_type: 'com.example.someevent' },
        }),
        specAlert({
          title: 'com.example.someotherevent',
          description: '{\n  "appinfoA": "abc",\n  "appinfoB": 123,\n  "appinfoC": true\n}',
          fingerprint: '16988dab3372cce2fb2c726cf997bbb9',
          labels: { ce_source: '/mycontext/9', ce_type: 'com.example.someotherevent' },
          startsAt: '2018-04-05T17:31:05.000Z',
        }),
      ],
      // A digest of the events' source/id pairs: the same batch resent is stored once.
      deliveryId: 'batch:1571a8d922bca1123d9bb834cc3102a0',
    },
  },
  'batch: empty (valid per §4.3)': {
    body: [],
    headers: BATCH,
    expected: { kind: 'alerts', alerts: [], deliveryId: null },
  },
  // The §3.2 re-encodings in HTTP binary content mode: attributes in ce-* headers.
  'binary mode: JSON object data': {
    body: { appinfoA: 'abc', appinfoB: 123, appinfoC: true },
    headers: {
      'ce-specversion': '1.0',
      'ce-type': 'com.example.someevent',
      'ce-source': '/mycontext',
      'ce-id': 'C234-1234-1234',
      'ce-time': '2018-04-05T17:31:00Z',
      'ce-comexampleextension1': 'value',
      'ce-comexampleothervalue': '5',
      'Content-Type': 'application/json',
    },
    expected: {
      kind: 'alerts',
      alerts: [
        specAlert({
          description: '{\n  "appinfoA": "abc",\n  "appinfoB": 123,\n  "appinfoC": true\n}',
        }),
      ],
      deliveryId: '/mycontext/C234-1234-1234',
    },
  },
  'binary mode: JSON string data': {
    body: "I'm just a string",
    headers: {
      'ce-specversion': '1.0',
      'ce-type': 'com.example.someevent',
      'ce-source': '/mycontext',
      'ce-id': 'D234-1234-1234',
      'ce-time': '2018-04-05T17:31:00Z',
      'ce-comexampleextension1': 'value',
      'ce-comexampleothervalue': '5',
      'Content-Type': 'application/json',
    },
    expected: {
      kind: 'alerts',
      alerts: [specAlert({ description: "I'm just a string" })],
      deliveryId: '/mycontext/D234-1234-1234',
    },
  },
};

const only = (result: Normalized): Alert => {
  if (result.kind !== 'alerts' || result.alerts.length !== 1)
    throw new Error(`expected one alert, got ${JSON.stringify(result)}`);
  return result.alerts[0]!;
};

/** An alerting event about one subject, as a monitoring tool would emit it. */
const alertEvent = (fields: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id: 'evt-1',
  source: '/monitoring/prod',
  type: 'com.example.disk.full.firing',
  subject: 'db-1',
  time: '2026-03-14T08:00:00Z',
  data: { summary: 'Disk /var 95% full', service: 'ledger', labels: { mount: '/var' } },
  ...fields,
});

describe('cloudevents: the spec examples', () => {
  it.each(Object.entries(cases))('%s', (_name, { body, headers, expected }) => {
    expect(normalizeBody(cloudevents, body, headers)).toEqual(expected);
  });
});

describe('cloudevents', () => {
  it('reads an alerting event: title, CI from the subject, service and labels from data', () => {
    expect(normalizeBody(cloudevents, alertEvent(), STRUCTURED)).toEqual({
      kind: 'alerts',
      alerts: [
        {
          title: 'Disk /var 95% full',
          description:
            '{\n  "summary": "Disk /var 95% full",\n  "service": "ledger",\n  "labels": {\n    "mount": "/var"\n  }\n}',
          severity: 'warning',
          status: 'firing',
          ci: 'db-1',
          service: 'ledger',
          source: 'cloudevents',
          // The type without its state suffix, so the resolving event has the same key.
          fingerprint: 'cloudevents:/monitoring/prod/db-1#com.example.disk.full',
          labels: {
            mount: '/var',
            ce_source: '/monitoring/prod',
            ce_type: 'com.example.disk.full',
          },
          startsAt: '2026-03-14T08:00:00.000Z',
          endsAt: null,
        },
      ],
      deliveryId: '/monitoring/prod/evt-1',
    });
  });

  it('resolves the alert with a .resolved event of the same type and subject', () => {
    const fired = only(normalizeBody(cloudevents, alertEvent(), STRUCTURED));
    const resolved = only(
      normalizeBody(
        cloudevents,
        alertEvent({
          id: 'evt-2',
          type: 'com.example.disk.full.resolved',
          time: '2026-03-14T08:20:00Z',
        }),
        STRUCTURED,
      ),
    );
    expect(resolved).toMatchObject({
      status: 'resolved',
      fingerprint: fired.fingerprint,
      endsAt: '2026-03-14T08:20:00.000Z',
    });
  });

  it.each([
    [{ type: 'com.example.disk.full.closed' }, 'resolved'],
    [{ type: 'com.example.disk.full.recovered' }, 'resolved'],
    [{ type: 'com.example.disk.full' }, 'firing'],
    [{ data: { summary: 'x', status: 'resolved' } }, 'resolved'],
    [{ data: { summary: 'x', status: 'OK' } }, 'resolved'],
    // data.status, when present, wins over the type's suffix.
    [{ type: 'com.example.disk.full.resolved', data: { status: 'firing' } }, 'firing'],
  ])('reads the status of %j as %s', (fields, status) => {
    expect(only(normalizeBody(cloudevents, alertEvent(fields), STRUCTURED)).status).toBe(status);
  });

  it.each([
    [{ severitytext: 'FATAL' }, 'critical'],
    [{ severitytext: 'ERROR' }, 'major'],
    [{ severitytext: 'WARN' }, 'warning'],
    [{ severitytext: 'INFO' }, 'info'],
    [{ severitytext: 'DEBUG' }, 'info'],
    [{ severitytext: 'TRACE' }, 'info'],
    [{ data: { severity: 'critical' }, severitytext: 'INFO' }, 'critical'],
    [{ data: { severity: 'high' } }, 'major'],
    [{ data: { severity: 'medium' } }, 'minor'],
    [{}, 'warning'],
  ])('maps %j to severity %s', (fields, severity) => {
    expect(only(normalizeBody(cloudevents, alertEvent(fields), STRUCTURED)).severity).toBe(
      severity,
    );
  });

  it('takes a Tocsin alert in data as it is, timed by the event', () => {
    const result = normalizeBody(
      cloudevents,
      alertEvent({
        type: 'com.example.alert.resolved',
        data: {
          title: 'Replication lag above 30s',
          severity: 'major',
          ci: 'db-ledger-1',
          fingerprint: 'ledger-replication',
          labels: { cluster: 'ledger' },
        },
      }),
      STRUCTURED,
    );
    expect(result).toEqual({
      kind: 'alerts',
      alerts: [
        {
          title: 'Replication lag above 30s',
          description: null,
          severity: 'major',
          status: 'resolved',
          ci: 'db-ledger-1',
          service: null,
          source: 'cloudevents',
          fingerprint: 'ledger-replication',
          labels: { cluster: 'ledger' },
          startsAt: '2026-03-14T08:00:00.000Z',
          endsAt: '2026-03-14T08:00:00.000Z',
        },
      ],
      deliveryId: '/monitoring/prod/evt-1',
    });
  });

  it('decodes percent-encoded ce-* headers in binary mode', () => {
    const alert = only(
      normalizeBody(
        cloudevents,
        { summary: 'Température haute' },
        {
          'Content-Type': 'application/json',
          'ce-specversion': '1.0',
          'ce-id': '1',
          'ce-source': '/sensors',
          'ce-type': 'com.example.temperature',
          'ce-subject': 'salle%20caf%C3%A9',
          'ce-severitytext': 'ERROR',
        },
      ),
    );
    expect(alert).toMatchObject({ ci: 'salle café', severity: 'major' });
  });

  it.each([
    [STRUCTURED, [alertEvent()], 'one event expected'],
    [BATCH, alertEvent(), 'must be a JSON array'],
  ])('refuses a body that is not what its media type %j says', (headers, body, detail) => {
    const result = normalizeBody(cloudevents, body, headers);
    expect(result).toMatchObject({ kind: 'invalid', errors: [{ pointer: '' }] });
    if (result.kind === 'invalid') expect(result.errors[0]!.detail).toContain(detail);
  });

  it.each([
    [alertEvent({ specversion: '0.3' }), ['/specversion']],
    [alertEvent({ specversion: undefined }), ['/specversion']],
    [alertEvent({ id: undefined }), ['/id']],
    [alertEvent({ id: '' }), ['/id']],
    [alertEvent({ source: 7 }), ['/source']],
    [alertEvent({ type: undefined, id: undefined }), ['/id', '/type']],
    [alertEvent({ time: 'yesterday' }), ['/time']],
    [alertEvent({ subject: 5 }), ['/subject']],
    [alertEvent({ data_base64: 5 }), ['/data_base64']],
    [alertEvent({ data: { title: '', severity: 'bad' } }), ['/data/title', '/data/severity']],
    [[alertEvent(), 'x'], ['/1']],
    [[alertEvent(), alertEvent({ type: undefined })], ['/1/type']],
    [[alertEvent(), alertEvent({ data: { title: 'x', severity: 'bad' } })], ['/1/data/severity']],
  ])('points at the bad fields of %j', (body, pointers) => {
    const result = normalizeBody(cloudevents, body);
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.errors.map((e) => e.pointer)).toEqual(pointers);
  });

  it.each([null, 42, 'x', true, {}, [null], { specversion: 1 }].map((body) => [body]))(
    'never throws on %j',
    (body) => {
      expect(normalizeBody(cloudevents, body).kind).toBe('invalid');
    },
  );

  it('answers any body with a well-formed outcome', () => {
    const wellFormed = (result: Normalized) => expectWellFormed(result);
    fc.assert(fc.property(fc.anything(), (body) => wellFormed(normalizeBody(cloudevents, body))));
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue(), (fields, data) =>
        wellFormed(normalizeBody(cloudevents, alertEvent({ ...fields, data }), STRUCTURED)),
      ),
    );
  });
});
