import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../correlator/alert.ts';
import type { Normalized } from '../../../ingest/normalize.ts';
import { parsePayload } from '../../../ingest/payload.ts';
import { grafana } from '../../../ingest/sources/grafana.ts';
import {
  fixtureFiles,
  normalizeBody,
  normalizeFixture,
  RECEIVED_AT,
  readFixture,
} from '../../support/fixtures.ts';

const DIR = 'grafana';
const RECEIVED = RECEIVED_AT.toISOString();

const alertsOf = (result: Normalized): Alert[] => {
  if (result.kind !== 'alerts') throw new Error(`expected alerts, got ${JSON.stringify(result)}`);
  return result.alerts;
};

const v9Group = {
  receiver: 'Webhook test',
  group_key: '{}/{test="true"}:{}',
  org_id: '1',
  external_url: 'https://grafana.example.com/',
};
const v9Rule = 'https://grafana.example.com/alerting/grafana/zTjxv_C7k/view';
const zetaRuleUrl =
  'https://grafana.domain.tld/dashboard/db/alarms?fullscreen&edit&tab=alert&panelId=1&orgId=1';

const cases: Record<string, Alert[]> = {
  'unified-docs-two-firing.json': [
    {
      title: 'This alert was triggered for zone us-1',
      description: 'The system has high memory usage',
      severity: 'warning',
      status: 'firing',
      ci: null,
      service: null,
      source: 'grafana',
      fingerprint: 'grafana:c6eadffa33fcdf37',
      labels: {
        receiver: 'My Super Webhook',
        group_key: '{}:{}',
        org_id: '1',
        external_url: 'https://play.grafana.org/',
        generator_url: 'https://play.grafana.org/alerting/1afz29v7z/edit',
        silence_url:
          'https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1',
        values: 'B=44.23943737541908, C=1',
        runbook_url: 'https://myrunbook.com/runbook/1234',
        alertname: 'High memory usage',
        team: 'blue',
        zone: 'us-1',
      },
      startsAt: '2021-10-12T07:51:03.157Z',
      endsAt: null,
    },
    {
      title: 'This alert was triggered for zone eu-1',
      description: 'The system has high CPU usage',
      severity: 'warning',
      status: 'firing',
      ci: null,
      service: null,
      source: 'grafana',
      fingerprint: 'grafana:bc97ff14869b13e3',
      labels: {
        receiver: 'My Super Webhook',
        group_key: '{}:{}',
        org_id: '1',
        external_url: 'https://play.grafana.org/',
        generator_url: 'https://play.grafana.org/alerting/d1rdpdv7k/edit',
        silence_url:
          'https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT1%2Cteam%3Dblue%2Czone%3Deu-1',
        values: 'B=44.23943737541908, C=1',
        runbook_url: 'https://myrunbook.com/runbook/1234',
        alertname: 'High CPU usage',
        team: 'blue',
        zone: 'eu-1',
      },
      startsAt: '2021-10-12T07:56:03.157Z',
      endsAt: null,
    },
  ],
  'unified-v11-values-imageurl.json': [
    {
      title: 'High memory usage',
      description: null,
      severity: 'warning',
      status: 'firing',
      ci: null,
      service: null,
      source: 'grafana',
      fingerprint: 'grafana:e6349a25f5ef0e9e',
      labels: {
        receiver: 'Debug webhook',
        group_key: '{}/{debug="true"}:{alertname="Memory (copy)", grafana_folder="device"}',
        org_id: '1',
        external_url: 'https://play.grafana.org/',
        generator_url:
          'https://play.grafana.org/alerting/grafana/dd2f0260-3cfc-4c65-a4c4-f3f632c551f4/view?orgId=1',
        silence_url:
          'https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DMemory+%28copy%29&matcher=debug%3Dtrue&matcher=grafana_folder%3Ddevice&orgId=1',
        dashboard_url: 'https://play.grafana.org/d/ece9fb32-7f71-4be9-bd94-2f23608ae5b9?orgId=1',
        panel_url:
          'https://play.grafana.org/d/ece9fb32-7f71-4be9-bd94-2f23608ae5b9?orgId=1&viewPanel=2',
        image_url: 'https://grafana.com/assets/img/blog/mixed_styles.png',
        values: 'A=2473545728, B=0, C=1, minute=9',
        value_string:
          "[ var='A' labels={instance=node_exporter:9100, job=node} value=2.473545728e+09 ], [ var='B' labels={instance=node_exporter:9100, job=node} value=0 ], [ var='C' labels={} value=1 ], [ var='minute' labels={} value=9 ]",
        alertname: 'Memory (copy)',
        debug: 'true',
        grafana_folder: 'device',
      },
      startsAt: '2024-03-01T02:09:00.000Z',
      endsAt: null,
    },
  ],
  'unified-v12-test-alert.json': [
    {
      title: 'TEST',
      description: 'Test Description',
      severity: 'warning',
      status: 'firing',
      ci: 'Grafana',
      service: null,
      source: 'grafana',
      fingerprint: 'grafana:c4edaaf9f9f839b0',
      labels: {
        receiver: 'webhook',
        group_key: 'webhook-c4edaaf9f9f839b0-1777986297',
        org_id: '1',
        external_url: 'https://grafana.example.com/',
        // Sent as the relative "?orgId=1": made absolute against Grafana's root URL.
        generator_url: 'https://grafana.example.com/?orgId=1',
        silence_url: 'https://grafana.example.com/alerting/silence/new',
        dashboard_url: 'https://grafana.example.com/d/dashboard_uid',
        panel_url: 'https://grafana.example.com/d/dashboard_uid?viewPanel=1',
        values: 'B=22, C=1',
        value_string: "[ var='B' value=22 ]",
        alertname: 'TestAlert',
        grafana_folder: 'Test Folder',
        instance: 'Grafana',
      },
      startsAt: '2026-05-05T13:04:57.622Z',
      endsAt: null,
    },
  ],
  'unified-v9-mixed-firing-resolved.json': [
    {
      title: 'This is a summary field, failure on badhost.example.com',
      description: 'This is a description',
      severity: 'warning',
      // The alert's own status, not the group's "firing".
      status: 'resolved',
      ci: 'badhost.example.com',
      service: null,
      source: 'grafana',
      fingerprint: 'grafana:aaafafe0953f0962',
      labels: {
        ...v9Group,
        generator_url: v9Rule,
        silence_url:
          'https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DTest+alert&matcher=deploy%3Dprod&matcher=instance%3Dbadhost.example.com&matcher=job%3Drabbitmq&matcher=test%3Dtrue',
        value_string:
          "[ var='B' labels={__name__=rabbitmq_queues, deploy=prod, instance=badhost.example.com, job=rabbitmq} value=17 ], [ var='C' labels={__name__=rabbitmq_queues, deploy=prod, instance=badhost.example.com, job=rabbitmq} value=1 ]",
        runbook_url: 'https://example.com/',
        alertname: 'Test alert',
        deploy: 'prod',
        instance: 'badhost.example.com',
        job: 'rabbitmq',
        test: 'true',
      },
      startsAt: '2022-06-17T01:04:00.782Z',
      endsAt: '2022-06-17T01:08:28.652Z',
    },
    {
      title: 'This is a summary field, failure on otherhost.example.com',
      description: 'This is a description',
      severity: 'warning',
      status: 'resolved',
      ci: 'otherhost.example.com',
      service: null,
      source: 'grafana',
      fingerprint: 'grafana:fb31814ac93dbe7d',
      labels: {
        ...v9Group,
        generator_url: v9Rule,
        silence_url:
          'https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DTest+alert&matcher=deploy%3Dprod&matcher=instance%3Dotherhost.example.com&matcher=job%3Drabbitmq&matcher=test%3Dtrue',
        value_string:
          "[ var='B' labels={__name__=rabbitmq_queues, deploy=prod, instance=otherhost.example.com, job=rabbitmq} value=24 ], [ var='C' labels={__name__=rabbitmq_queues, deploy=prod, instance=otherhost.example.com, job=rabbitmq} value=1 ]",
        runbook_url: 'https://example.com/',
        alertname: 'Test alert',
        deploy: 'prod',
        instance: 'otherhost.example.com',
        job: 'rabbitmq',
        test: 'true',
      },
      startsAt: '2022-06-17T01:04:00.782Z',
      endsAt: '2022-06-17T01:08:28.652Z',
    },
    {
      title: 'Testing **another** failing alert',
      description: 'Description **here**',
      severity: 'warning',
      status: 'firing',
      ci: null,
      service: null,
      source: 'grafana',
      fingerprint: 'grafana:6f9cd313db421ef1',
      labels: {
        ...v9Group,
        generator_url: 'https://grafana.example.com/alerting/grafana/_0rkK_C7z/view',
        silence_url:
          'https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DSecond+webhook+test&matcher=test%3Dtrue',
        value_string:
          '[ var=\'B0\' metric=\'camo_build_info{goversion="go1.17.6", instance="sadhost.example.com", job="camo", role="smokescreen", version="2.4.0"}\' labels={__name__=camo_build_info, goversion=go1.17.6, instance=sadhost.example.com, job=camo, role=smokescreen, version=2.4.0} value=1 ]',
        runbook_url: 'https://example.com/',
        alertname: 'Second webhook test',
        test: 'true',
      },
      startsAt: '2022-06-17T01:03:00.782Z',
      endsAt: null,
    },
  ],
  'unified-v9-resolved.json': [
    {
      // Grafana's "<no value>" is what the rule's template rendered; it is kept as sent.
      title: 'This is a summary field, failure on <no value>',
      description: 'This is a description',
      severity: 'warning',
      status: 'resolved',
      ci: null,
      service: null,
      source: 'grafana',
      fingerprint: 'grafana:d8a21484c9c25a60',
      labels: {
        ...v9Group,
        generator_url: v9Rule,
        silence_url:
          'https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DTest+alert&matcher=test%3Dtrue',
        value_string:
          "[ var='B0' metric='Value' labels={__name__=rabbitmq_queues, deploy=prod, instance=otherhost.example.com, job=rabbitmq} value=24 ]",
        runbook_url: 'https://example.com/',
        alertname: 'Test alert',
        test: 'true',
      },
      startsAt: '2022-06-17T00:41:00.782Z',
      endsAt: '2022-06-17T00:51:24.067Z',
    },
  ],
  'legacy-alerting-evalmatches.json': [
    {
      title: 'Zeta CPU alert',
      description:
        'boom!\n\nuser = 97.007606 {__name__=netdata_cpu_cpu_percentage_average, chart=cpu.cpu0, dimension=user, family=utilization, instance=zeta.domain, job=monitoring, info.host_id=i-0d0721c7f97545d43}',
      severity: 'warning',
      status: 'firing',
      ci: 'zeta.domain',
      service: null,
      source: 'grafana',
      fingerprint: 'grafana:rule:7@grafana.domain.tld',
      labels: {
        rule_id: '7',
        rule_url: zetaRuleUrl,
        grafana_state: 'alerting',
        __name__: 'netdata_cpu_cpu_percentage_average',
        chart: 'cpu.cpu0',
        dimension: 'user',
        family: 'utilization',
        instance: 'zeta.domain',
        job: 'monitoring',
        // A dotted key is one key, not a path.
        'info.host_id': 'i-0d0721c7f97545d43',
      },
      startsAt: RECEIVED,
      endsAt: null,
    },
  ],
  'legacy-ok-no-matches.json': [
    {
      title: 'Zeta CPU alert',
      description: 'boom!',
      severity: 'warning',
      status: 'resolved',
      ci: null,
      service: null,
      source: 'grafana',
      fingerprint: 'grafana:rule:7@grafana.domain.tld',
      labels: { rule_id: '7', rule_url: zetaRuleUrl, grafana_state: 'ok' },
      startsAt: RECEIVED,
      endsAt: RECEIVED,
      // No series: the stored CI and text of the alerting notification are kept.
      partial: true,
    },
  ],
  'legacy-docs-example-imageurl.json': [
    {
      title: 'Load peaking!',
      description:
        'Load is peaking. Make sure the traffic is real and spin up more webfronts\n\nrequests = 122',
      severity: 'warning',
      status: 'firing',
      ci: null,
      service: null,
      source: 'grafana',
      fingerprint: 'grafana:rule:1@url.to.grafana',
      labels: {
        rule_id: '1',
        rule_url: 'http://url.to.grafana/db/dashboard/my_dashboard?panelId=2',
        grafana_state: 'alerting',
        image_url: 'http://s3.image.url',
      },
      startsAt: RECEIVED,
      endsAt: null,
    },
  ],
  'legacy-v6-rule-tags.json': [
    {
      title: 'Testing -> Battery Voltage alert',
      // The two identical matches are listed once.
      description:
        'Battery Voltage dropped below 23.7 Volts, please investigate\n\nBattery Voltage (millivolts) = 23644.5 {environment=Network, service=Core, group=Power}',
      severity: 'warning',
      status: 'firing',
      ci: null,
      // The rule's tags win over its series' tags.
      service: 'Physical',
      source: 'grafana',
      fingerprint: 'grafana:rule:58@grafana.logreposit.com',
      labels: {
        rule_id: '58',
        rule_url:
          'https://grafana.logreposit.com/d/Rs6E_oHWk/playground?fullscreen&edit&tab=alert&panelId=2&orgId=1',
        grafana_state: 'alerting',
        environment: 'Staging',
        service: 'Physical',
        group: 'BatteryPower',
        enabled: 'true',
        relay: '7',
        'on-alerting': 'relay-on',
        'on-ok': 'ignore',
        severity: 'warning',
      },
      startsAt: RECEIVED,
      endsAt: null,
    },
  ],
};

const legacy = (overrides: Record<string, unknown>) => ({
  ruleId: 3,
  ruleName: 'Disk full',
  ruleUrl: 'https://grafana.example.com/d/x?panelId=1',
  state: 'alerting',
  message: 'Disk is full',
  evalMatches: [{ metric: 'used', value: 99, tags: { host: 'db-1' } }],
  ...overrides,
});

describe('grafana normalizer', () => {
  it('has an expectation for every fixture', () => {
    expect(Object.keys(cases).sort()).toEqual(fixtureFiles(DIR));
  });

  it.each(Object.entries(cases))('%s', (file, alerts) => {
    expect(normalizeFixture(grafana, DIR, file)).toEqual({ kind: 'alerts', alerts });
  });

  it("resolves a legacy rule's alerting notification with its ok one", () => {
    const [alerting] = alertsOf(normalizeFixture(grafana, DIR, 'legacy-alerting-evalmatches.json'));
    const [ok] = alertsOf(normalizeFixture(grafana, DIR, 'legacy-ok-no-matches.json'));
    expect([alerting!.status, ok!.status]).toEqual(['firing', 'resolved']);
    expect(ok!.fingerprint).toBe(alerting!.fingerprint);
  });

  it('keeps two Grafanas with the same rule id apart', () => {
    const a = alertsOf(normalizeBody(grafana, legacy({ ruleUrl: 'https://a.example/d/x' })));
    const b = alertsOf(normalizeBody(grafana, legacy({ ruleUrl: 'https://b.example/d/x' })));
    expect(a[0]!.fingerprint).toBe('grafana:rule:3@a.example');
    expect(b[0]!.fingerprint).toBe('grafana:rule:3@b.example');
    expect(alertsOf(normalizeBody(grafana, legacy({ ruleUrl: null })))[0]!.fingerprint).toBe(
      'grafana:rule:3',
    );
  });

  it('maps the legacy states: no_data fires as a warning at most, paused resolves, pending waits', () => {
    const one = (overrides: Record<string, unknown>) =>
      alertsOf(normalizeBody(grafana, legacy(overrides)));
    const noData = one({ state: 'no_data', tags: { severity: 'critical' } })[0]!;
    expect([noData.status, noData.severity]).toEqual(['firing', 'warning']);
    expect(noData.labels.grafana_state).toBe('no_data');
    const quiet = one({ state: 'no_data', tags: { severity: 'info' } })[0]!;
    expect(quiet.severity).toBe('info');
    expect(one({ state: 'alerting', tags: { severity: 'critical' } })[0]!.severity).toBe(
      'critical',
    );
    const paused = one({ state: 'paused' })[0]!;
    expect([paused.status, paused.partial]).toEqual(['resolved', true]);
    expect(normalizeBody(grafana, legacy({ state: 'pending' }))).toEqual({
      kind: 'alerts',
      alerts: [],
    });
  });

  it('labels a legacy alert with the tags all its series share', () => {
    const [alert] = alertsOf(
      normalizeBody(
        grafana,
        legacy({
          evalMatches: [
            { metric: 'a', value: 1, tags: { job: 'node', host: 'db-1' } },
            { metric: 'b', value: 2, tags: { job: 'node', host: 'db-2' } },
          ],
        }),
      ),
    );
    expect(alert!.labels.job).toBe('node');
    expect(alert!.labels.host).toBeUndefined();
    expect(alert!.ci).toBeNull();
    expect(alert!.description).toBe(
      'Disk is full\n\na = 1 {job=node, host=db-1}\nb = 2 {job=node, host=db-2}',
    );
  });

  it('titles a legacy alert without a rule name from its title, without the state prefix', () => {
    const [alert] = alertsOf(
      normalizeBody(grafana, legacy({ ruleName: undefined, title: '[Alerting] Disk full' })),
    );
    expect(alert!.title).toBe('Disk full');
  });

  it('gives a unified alert without a fingerprint a key from its labels alone', () => {
    const body = parsePayload(readFixture(DIR, 'unified-v9-resolved.json')) as {
      alerts: { fingerprint?: string; annotations: Record<string, string>; status: string }[];
    };
    delete body.alerts[0]!.fingerprint;
    const resolved = alertsOf(normalizeBody(grafana, body))[0]!;
    body.alerts[0]!.status = 'firing';
    body.alerts[0]!.annotations.summary = 'another summary';
    const firing = alertsOf(normalizeBody(grafana, body))[0]!;
    expect(resolved.fingerprint).toMatch(/^grafana:[0-9a-f]{16}$/);
    expect(firing.fingerprint).toBe(resolved.fingerprint);
  });

  it('reads the severity label through the severity table', () => {
    const [alert] = alertsOf(
      normalizeBody(grafana, {
        status: 'firing',
        alerts: [{ labels: { alertname: 'x', severity: 'page', instance: 'db-1:9100' } }],
      }),
    );
    expect(alert!.severity).toBe('critical');
    expect(alert!.ci).toBe('db-1');
  });

  it.each([
    [{}, '/alerts'],
    [{ state: 'ok' }, '/alerts'],
    [{ alerts: [] }, '/alerts'],
    [{ status: 'firing', alerts: 'x' }, '/alerts'],
    [{ status: 'firing', alerts: [{}] }, '/alerts/0/labels'],
    [{ alerts: [{ labels: {} }] }, '/alerts/0/status'],
    [{ status: 'firing', alerts: [{ labels: {}, values: { A: {} } }] }, '/alerts/0/values/A'],
    [legacy({ state: 'keep_state' }), '/state'],
    [legacy({ ruleId: null, ruleUrl: null }), '/ruleId'],
    [legacy({ evalMatches: [{ tags: 'x' }] }), '/evalMatches/0/tags'],
    [{ ruleName: 'x' }, '/state'],
  ])('answers invalid for %j at %s', (body, pointer) => {
    const result = normalizeBody(grafana, body);
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.errors.map((e) => e.pointer)).toContain(pointer);
  });

  it.each([null, [], 42, 'x', {}, true, [[]], { alerts: null }, { evalMatches: null }])(
    'never throws on %j',
    (body) => {
      const result = normalizeBody(grafana, body);
      expect(result.kind).toBe('invalid');
      if (result.kind === 'invalid') expect(result.errors.length).toBeGreaterThan(0);
    },
  );
});
