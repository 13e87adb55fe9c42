import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../correlator/alert.ts';
import type { Normalized } from '../../../ingest/normalize.ts';
import { parsePayload } from '../../../ingest/payload.ts';
import { alertmanager } from '../../../ingest/sources/alertmanager.ts';
import {
  fixtureFiles,
  normalizeBody,
  normalizeFixture,
  readFixture,
  RECEIVED_AT,
} from '../../support/fixtures.ts';

const DIR = 'alertmanager';

const alertsOf = (result: Normalized): Alert[] => {
  if (result.kind !== 'alerts') throw new Error(`expected alerts, got ${JSON.stringify(result)}`);
  return result.alerts;
};

const fireGeneratorUrl = 'http://localhost:9090/graph?g0.expr=vector%28666%29&g0.tab=1';
const cpuGeneratorUrl =
  'http://cobalt:9090/graph?g0.expr=avg+by%28host%29+%28sensors_temp_input%7Bfeature%3D~%22core_%5B0-9%5D%2B%22%7D%29+%3E+15&g0.tab=1';

const cases: Record<string, Alert[]> = {
  'firing-group-two-alerts.json': [
    {
      title: 'High CPU core temperature',
      description: 'CPU core temperature is 34.75C',
      severity: 'critical',
      status: 'firing',
      ci: 'andromeda',
      service: null,
      source: 'alertmanager',
      fingerprint: 'alertmanager:a1bc48475b20e73d',
      labels: {
        receiver: 'ops-zulip',
        group_key: '{}/{}:{}',
        external_url: 'http://ops1:9093',
        generator_url: cpuGeneratorUrl,
        topic: 'andromeda',
        alertname: 'High CPU Temperature',
        host: 'andromeda',
        severity: 'critical',
      },
      startsAt: '2020-02-06T00:17:58.432Z',
      endsAt: null,
    },
    {
      title: 'High CPU core temperature',
      description: 'CPU core temperature is 17.625C',
      severity: 'critical',
      status: 'firing',
      ci: 'andromeda',
      service: null,
      source: 'alertmanager',
      fingerprint: 'alertmanager:c2ea85182f28cbd9',
      labels: {
        receiver: 'ops-zulip',
        group_key: '{}/{}:{}',
        external_url: 'http://ops1:9093',
        generator_url: cpuGeneratorUrl,
        topic: 'andromeda',
        alertname: 'High CPU Temperature',
        host: 'andromeda',
        severity: 'critical',
      },
      startsAt: '2020-02-06T00:17:58.432Z',
      endsAt: null,
    },
  ],
  'firing-single-endsat-in-future.json': [
    {
      title: 'Fire',
      description: 'Something is on fire',
      severity: 'critical',
      status: 'firing',
      ci: null,
      service: null,
      source: 'alertmanager',
      // No fingerprint in the body: Alertmanager's own hash of {alertname, severity}.
      fingerprint: 'alertmanager:88cbf0084cf27726',
      labels: {
        receiver: 'telegram',
        group_key: '{}:{alertname="Fire"}',
        external_url: 'http://localhost:9093',
        generator_url: fireGeneratorUrl,
        alertname: 'Fire',
        severity: 'critical',
      },
      startsAt: '2018-11-04T21:43:58.283Z',
      // The future endsAt is only Alertmanager's timeout guess; the alert has not ended.
      endsAt: null,
    },
  ],
  'resolved-single-alert.json': [
    {
      title: 'Fire',
      description: 'Something is on fire',
      severity: 'critical',
      status: 'resolved',
      ci: null,
      service: null,
      source: 'alertmanager',
      fingerprint: 'alertmanager:88cbf0084cf27726',
      labels: {
        receiver: 'telegram',
        group_key: '{}:{alertname="Fire"}',
        external_url: 'http://localhost:9093',
        generator_url: fireGeneratorUrl,
        alertname: 'Fire',
        severity: 'critical',
      },
      startsAt: '2018-11-04T21:43:58.283Z',
      endsAt: '2018-11-04T21:48:13.283Z',
    },
  ],
  'firing-v3-numeric-groupkey.json': [
    {
      title: 'Connect fail',
      description: 'Connect to host2 fails',
      severity: 'critical',
      status: 'firing',
      ci: 'host2',
      service: 'System',
      source: 'alertmanager',
      fingerprint: 'alertmanager:d2089d8d0f422129',
      labels: {
        receiver: 'alerta',
        // 5615590933959184469 > 2^53: kept digit for digit.
        group_key: '5615590933959184469',
        external_url: 'http://alertmanager.host:9093',
        generator_url: 'http://prometheus.host:9090/...',
        __name__: 'ping_success',
        alertname: 'failedConnect',
        environment: 'Production',
        instance: 'host2',
        job: 'pinger',
        monitor: 'testlab',
        service: 'System',
        severity: 'critical',
        timeout: '600',
      },
      startsAt: '2016-08-01T10:27:08.008Z',
      endsAt: null,
    },
  ],
  'firing-v4-single-alert.json': [
    {
      title: 'No things for over 10 minutes',
      description:
        'No things have been recorded for over 10 minutes. Something terrible is happening.',
      severity: 'critical',
      status: 'firing',
      ci: null,
      service: null,
      source: 'alertmanager',
      fingerprint: 'alertmanager:2f30fca22fdaa8ef',
      labels: {
        receiver: 'alerta',
        group_key: '{}:{alertname=thing_dead}',
        external_url: 'http://somehost:9093',
        generator_url:
          'http://somehost:9090/graph?g0.expr=sum%28irate%28messages_received_total%5B5m%5D%29%29+%3D%3D+0&g0.tab=0',
        severity: 'critical',
        // Unfilled placeholders are the sender's; they are kept as sent.
        runbookBad: 'https://internal.myorg.net/wiki/alerts/{app}/{alertname}',
        runbookGood: 'https://internal.myorg.net/wiki/alerts/{alertname}',
        alertname: 'thing_dead',
      },
      startsAt: '2017-08-03T19:17:37.804Z',
      endsAt: null,
    },
  ],
  'mixed-firing-and-resolved.json': [
    {
      title: 'ServerStop',
      description: null,
      severity: 'warning',
      status: 'firing',
      ci: null,
      service: null,
      source: 'alertmanager',
      fingerprint: 'alertmanager:44a6bafcce26446c',
      labels: {
        receiver: 'webhook',
        group_key: '{}:{alertname="ServerStop", env="prod"}',
        external_url: 'http://Joses-MacBook-Pro-2.local:9093',
        alertname: 'ServerStop',
        env: 'prod',
        status: 'firing',
      },
      startsAt: '2017-10-21T17:50:17.160Z',
      endsAt: null,
    },
    {
      title: 'ServerStop',
      description: null,
      severity: 'warning',
      // The alert's own status, not the group's "firing".
      status: 'resolved',
      ci: 'a1',
      service: null,
      source: 'alertmanager',
      fingerprint: 'alertmanager:3b5243b8c35ebdce',
      labels: {
        receiver: 'webhook',
        group_key: '{}:{alertname="ServerStop", env="prod"}',
        external_url: 'http://Joses-MacBook-Pro-2.local:9093',
        alertname: 'ServerStop',
        env: 'prod',
        instance: 'a1',
        status: 'resolved',
      },
      startsAt: '2017-10-21T17:50:28.806Z',
      endsAt: '2017-10-21T17:50:28.806Z',
    },
  ],
  'oncall-example-two-firing-with-counts.json': [
    {
      title: 'Instance localhost:8081 down',
      description: 'localhost:8081 of job node has been down for more than 1 minute.',
      severity: 'critical',
      status: 'firing',
      ci: 'localhost',
      service: null,
      source: 'alertmanager',
      fingerprint: 'alertmanager:f404ecabc8dd5cd7',
      labels: {
        receiver: 'combo',
        group_key: '{}:{alertname="InstanceDown"}',
        job: 'node',
        group: 'production',
        instance: 'localhost:8081',
        severity: 'critical',
        alertname: 'InstanceDown',
      },
      startsAt: '2023-06-12T08:24:38.326Z',
      endsAt: null,
    },
    {
      title: 'Instance localhost:8082 down',
      description: 'localhost:8082 of job node has been down for more than 1 minute.',
      severity: 'critical',
      status: 'firing',
      ci: 'localhost',
      service: null,
      source: 'alertmanager',
      fingerprint: 'alertmanager:f8f08d4e32c61a9d',
      labels: {
        receiver: 'combo',
        group_key: '{}:{alertname="InstanceDown"}',
        job: 'node',
        group: 'canary',
        instance: 'localhost:8082',
        severity: 'critical',
        alertname: 'InstanceDown',
      },
      startsAt: '2023-06-12T08:24:38.326Z',
      endsAt: null,
    },
  ],
};

describe('alertmanager normalizer', () => {
  it('has an expectation for every fixture', () => {
    expect(Object.keys(cases).sort()).toEqual(fixtureFiles(DIR));
  });

  it.each(Object.entries(cases))('%s', (file, alerts) => {
    expect(normalizeFixture(alertmanager, DIR, file)).toEqual({ kind: 'alerts', alerts });
  });

  it('gives the firing and the resolved notification of one alert the same fingerprint', () => {
    const [firing] = alertsOf(
      normalizeFixture(alertmanager, DIR, 'firing-single-endsat-in-future.json'),
    );
    const [resolved] = alertsOf(normalizeFixture(alertmanager, DIR, 'resolved-single-alert.json'));
    expect(firing!.status).toBe('firing');
    expect(resolved!.status).toBe('resolved');
    expect(resolved!.fingerprint).toBe(firing!.fingerprint);
  });

  it("computes Alertmanager's own fingerprint when the body has none", () => {
    const body = parsePayload(readFixture(DIR, 'oncall-example-two-firing-with-counts.json')) as {
      alerts: { fingerprint?: string }[];
    };
    for (const a of body.alerts) delete a.fingerprint;
    // f404ecabc8dd5cd7 is what Alertmanager sent for these labels.
    expect(alertsOf(normalizeBody(alertmanager, body))[0]!.fingerprint).toBe(
      'alertmanager:f404ecabc8dd5cd7',
    );
  });

  it('does not depend on label order, or on annotations, for the fingerprint', () => {
    const alert = (labels: Record<string, string>, summary: string) => ({
      version: '4',
      status: 'firing',
      alerts: [{ status: 'firing', labels, annotations: { summary } }],
    });
    const a = alertsOf(normalizeBody(alertmanager, alert({ b: '2', a: '1' }, 'value 10')));
    const b = alertsOf(normalizeBody(alertmanager, alert({ a: '1', b: '2' }, 'value 99')));
    expect(a[0]!.fingerprint).toBe(b[0]!.fingerprint);
  });

  it('keeps a version 3 numeric groupKey beyond 2^53 exact', () => {
    const [alert] = alertsOf(
      normalizeFixture(alertmanager, DIR, 'firing-v3-numeric-groupkey.json'),
    );
    expect(alert!.labels.group_key).toBe('5615590933959184469');
    expect(String(Number('5615590933959184469'))).not.toBe('5615590933959184469');
  });

  it.each([
    ['page', 'critical'],
    ['error', 'major'],
    ['warn', 'warning'],
    ['informational', 'info'],
    ['none', 'info'],
    ['High', 'major'],
    ['minor', 'minor'],
    ['something-else', 'warning'],
  ])('maps severity %s to %s', (severity, expected) => {
    const [alert] = alertsOf(
      normalizeBody(alertmanager, { status: 'firing', alerts: [{ labels: { severity } }] }),
    );
    expect(alert!.severity).toBe(expected);
  });

  it.each([
    [{ instance: 'db-1:9100' }, 'db-1'],
    [{ instance: '[2001:db8::1]:9100' }, '2001:db8::1'],
    [{ instance: '2001:db8::1' }, '2001:db8::1'],
    [{ instance: 'https://example.org/health' }, 'https://example.org/health'],
    [{ instance: '10.0.0.7:8080', node: 'worker-3', pod: 'api-7f9' }, 'worker-3'],
    [{ instance: '10.0.0.7:8080', pod: 'api-7f9' }, '10.0.0.7'],
    [{ pod: 'api-7f9', device: 'eth0' }, 'api-7f9'],
    [{ hostname: 'web-2', instance: 'web-2:9100' }, 'web-2'],
    [{ job: 'node' }, null],
  ])('takes the CI from %j', (labels, ci) => {
    const [alert] = alertsOf(
      normalizeBody(alertmanager, { status: 'firing', alerts: [{ labels }] }),
    );
    expect(alert!.ci).toBe(ci);
  });

  it('falls back to the group status only when an alert has none of its own', () => {
    const alerts = alertsOf(
      normalizeBody(alertmanager, {
        status: 'resolved',
        alerts: [{ labels: { a: '1' } }, { status: 'firing', labels: { a: '2' } }],
      }),
    );
    expect(alerts.map((a) => a.status)).toEqual(['resolved', 'firing']);
    // A resolved alert without an end time ends at receipt.
    expect(alerts[0]!.endsAt).toBe(RECEIVED_AT.toISOString());
  });

  it.each([
    [{ alerts: [] }, '/alerts'],
    [{ status: 'firing' }, '/alerts'],
    [{ status: 'firing', alerts: {} }, '/alerts'],
    [{ status: 'firing', alerts: ['x'] }, '/alerts/0'],
    [{ status: 'firing', alerts: [{ annotations: {} }] }, '/alerts/0/labels'],
    [
      { status: 'firing', alerts: [{ labels: { a: '1' } }, { labels: { a: {} } }] },
      '/alerts/1/labels/a',
    ],
    [{ status: 'pending', alerts: [{ labels: {} }] }, '/status'],
    [{ alerts: [{ status: 'active', labels: {} }] }, '/alerts/0/status'],
    [{ alerts: [{ labels: {} }] }, '/alerts/0/status'],
    [{ status: 'firing', groupKey: {}, alerts: [{ labels: {} }] }, '/groupKey'],
  ])('answers invalid for %j at %s', (body, pointer) => {
    const result = normalizeBody(alertmanager, body);
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.errors.map((e) => e.pointer)).toContain(pointer);
  });

  it('refuses unknown webhook versions, steering Grafana to its own endpoint', () => {
    const body = (version: string) => ({ version, status: 'firing', alerts: [{ labels: {} }] });
    const grafana = normalizeBody(alertmanager, body('1'));
    expect(grafana).toMatchObject({ kind: 'unprocessable', pointer: '/version' });
    if (grafana.kind === 'unprocessable')
      expect(grafana.detail).toContain('/api/v1/ingest/grafana');
    expect(normalizeBody(alertmanager, body('5'))).toMatchObject({ kind: 'unprocessable' });
    expect(normalizeBody(alertmanager, body('3')).kind).toBe('alerts');
  });

  it.each([null, [], 42, 'x', {}, true, [[]], { alerts: null }, { alerts: [null] }])(
    'never throws on %j',
    (body) => {
      const result = normalizeBody(alertmanager, body);
      expect(result.kind).toBe('invalid');
      if (result.kind === 'invalid') expect(result.errors.length).toBeGreaterThan(0);
    },
  );
});
