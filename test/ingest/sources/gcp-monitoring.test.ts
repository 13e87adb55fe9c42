import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../correlator/alert.ts';
import type { Normalized } from '../../../ingest/normalize.ts';
import { parsePayload } from '../../../ingest/payload.ts';
import { gcpMonitoring } from '../../../ingest/sources/gcp-monitoring.ts';
import {
  fixtureFiles,
  normalizeBody,
  normalizeFixture,
  readFixture,
  RECEIVED_AT,
} from '../../support/fixtures.ts';

const DIR = 'gcp-monitoring';

type Body = { incident: Record<string, unknown>; version: string };
const fixture = (file: string) => parsePayload(readFixture(DIR, file)) as Body;
/** A fixture with some incident fields replaced. */
const withIncident = (file: string, fields: Record<string, unknown>): Body => {
  const body = fixture(file);
  return { ...body, incident: { ...body.incident, ...fields } };
};

const alertsOf = (result: Normalized): Alert[] => {
  if (result.kind !== 'alerts') throw new Error(`expected alerts, got ${JSON.stringify(result)}`);
  return result.alerts;
};

const openProject = 'xxxxxxxxxxxxxxxxxxxxxxxx';
const closedProject = 'YYYYYYYYYYYYYYYYYYYYY13';
const cpuMetric = 'compute.googleapis.com/instance/cpu/utilization';

const webserver = {
  title: 'Webserver Health',
  severity: 'warning',
  ci: 'webserver-85',
  service: null,
  source: 'gcp-monitoring',
  fingerprint: 'gcp-monitoring:f2e08c333dc64cb09f75eaab355393bz',
  startsAt: '2017-07-06T19:10:14.000Z',
} as const;
const webserverLabels = {
  condition_name: 'CPU usage',
  resource_id: 'i-4a266a2d',
  incident_url: 'https://app.stackdriver.com/incidents/f2e08c333dc64cb09f75eaab355393bz',
};
const webserverSummary =
  'CPU (agent) for webserver-85 is above the threshold of 1% with a value of 28.5%';

const v12Open: Alert = {
  title: 'choonho-server-cpu-alert-policy-test',
  description: `CPU utilization for ${openProject} VM Instance labels {project_id=${openProject}} is above the threshold of 0.500 with a value of 0.790.\n\nServer High CPU Usage`,
  // The policy sets no severity: the canonical default.
  severity: 'warning',
  status: 'firing',
  // No resource_display_name (the condition averages every VM): GCP's name for the resource.
  ci: `${openProject} VM Instance labels {project_id=${openProject}}`,
  service: null,
  source: 'gcp-monitoring',
  fingerprint: 'gcp-monitoring:0.mtdi83m6w8ao',
  labels: {
    project_id: openProject,
    condition_name: 'VM Instance - CPU utilization',
    resource_type: 'gce_instance',
    metric_type: cpuMetric,
    scoping_project_id: openProject,
    incident_state: 'open',
    incident_url: `https://console.cloud.google.com/monitoring/alerting/incidents/0.mtdi83m6w8ao?project=${openProject}`,
    observed_value: '0.790',
    threshold_value: '0.5',
  },
  startsAt: '2023-02-02T05:29:47.000Z',
  endsAt: null,
};

const cases: Record<string, Alert[]> = {
  'incident-v1.2-open.json': [v12Open],
  'incident-v1.2-closed.json': [
    {
      title: 'choonho-server-cpu-alert-policy-test',
      description: `CPU utilization for ${closedProject} VM Instance labels {project_id=${closedProject}} returned to normal with a value of 0.008.\n\nServer High CPU Usage`,
      severity: 'warning',
      status: 'resolved',
      ci: `${closedProject} VM Instance labels {project_id=${closedProject}}`,
      service: null,
      source: 'gcp-monitoring',
      fingerprint: 'gcp-monitoring:0.mteuirnn0v0k',
      labels: {
        project_id: closedProject,
        condition_name: 'VM Instance - CPU utilization',
        resource_type: 'gce_instance',
        metric_type: cpuMetric,
        scoping_project_id: closedProject,
        incident_state: 'closed',
        incident_url: `https://console.cloud.google.com/monitoring/alerting/incidents/0.mteuirnn0v0k?project=${closedProject}`,
        observed_value: '0.008',
        threshold_value: '0.5',
      },
      startsAt: '2023-02-03T04:20:07.000Z',
      endsAt: '2023-02-03T04:27:14.000Z',
    },
  ],
  'stackdriver-v1.1-open.json': [
    {
      ...webserver,
      // documentation.content holds JSON: kept as the text the policy author wrote.
      description: `${webserverSummary}\n\n{"summary": "CPU utilization for alerta-webserver-85 is over 95%",                                  "resource_name": "alerta-webserver-85"}`,
      status: 'firing',
      labels: { ...webserverLabels, incident_state: 'open' },
      endsAt: null,
    },
  ],
  'stackdriver-v1.1-closed.json': [
    {
      ...webserver,
      description: `${webserverSummary}\n\nThis is a markdown text example`,
      status: 'resolved',
      labels: { ...webserverLabels, incident_state: 'closed' },
      endsAt: '2017-07-06T19:20:36.000Z',
    },
  ],
};

describe('gcp-monitoring normalizer', () => {
  it('has a case for every fixture', () => {
    expect(Object.keys(cases).sort()).toEqual(fixtureFiles(DIR));
  });

  it.each(Object.entries(cases))('normalizes %s', (file, alerts) => {
    expect(normalizeFixture(gcpMonitoring, DIR, file)).toEqual({ kind: 'alerts', alerts });
  });

  it('closes the incident it opened: one fingerprint for both', () => {
    const [open] = alertsOf(normalizeFixture(gcpMonitoring, DIR, 'stackdriver-v1.1-open.json'));
    const [closed] = alertsOf(normalizeFixture(gcpMonitoring, DIR, 'stackdriver-v1.1-closed.json'));
    expect(open?.fingerprint).toBe(closed?.fingerprint);
    expect([open?.status, closed?.status]).toEqual(['firing', 'resolved']);
  });

  it.each([
    ['Critical', 'critical'],
    ['Error', 'major'],
    ['Warning', 'warning'],
    ['No severity', 'warning'],
    ['CRITICAL', 'critical'],
  ])('maps the policy severity %s to %s, keeping the original', (severity, expected) => {
    const body = withIncident('incident-v1.2-open.json', { severity });
    const [alert] = alertsOf(normalizeBody(gcpMonitoring, body));
    expect(alert?.severity).toBe(expected);
    expect(alert?.labels.gcp_severity).toBe(severity);
  });

  it('takes the CI from resource_display_name, and the labels of the metric, resource and policy', () => {
    const body = withIncident('incident-v1.2-open.json', {
      resource_display_name: 'choonho-test',
      resource_id: 4455667788,
      resource: { type: 'gce_instance', labels: { instance_id: '4455667788', zone: 'asia-1' } },
      metric: { type: cpuMetric, labels: { instance_name: 'choonho-test' } },
      metadata: { system_labels: { state: 'ACTIVE' }, user_labels: { team: 'web' } },
      policy_user_labels: { tier: 'gold' },
      documentation: null,
    });
    expect(alertsOf(normalizeBody(gcpMonitoring, body))).toEqual([
      {
        ...v12Open,
        description: v12Open.description?.replace('\n\nServer High CPU Usage', ''),
        ci: 'choonho-test',
        labels: {
          instance_id: '4455667788',
          zone: 'asia-1',
          instance_name: 'choonho-test',
          state: 'ACTIVE',
          team: 'web',
          tier: 'gold',
          condition_name: 'VM Instance - CPU utilization',
          resource_type: 'gce_instance',
          resource_id: '4455667788',
          metric_type: cpuMetric,
          scoping_project_id: openProject,
          incident_state: 'open',
          incident_url: v12Open.labels.incident_url,
          observed_value: '0.790',
          threshold_value: '0.5',
        },
      },
    ]);
  });

  it('resolves at receipt when a closed incident has no ended_at', () => {
    const body = withIncident('stackdriver-v1.1-closed.json', { ended_at: null });
    const [alert] = alertsOf(normalizeBody(gcpMonitoring, body));
    expect(alert?.endsAt).toBe(RECEIVED_AT.toISOString());
  });

  it.each([
    [{}, ['/incident']],
    [{ incident: [] }, ['/incident']],
    [{ incident: {} }, ['/incident/incident_id', '/incident/state']],
    [withIncident('incident-v1.2-open.json', { state: 'acknowledged' }), ['/incident/state']],
    [withIncident('incident-v1.2-open.json', { policy_name: 7 }), ['/incident/policy_name']],
    [
      withIncident('incident-v1.2-open.json', { resource: { labels: 'x' } }),
      ['/incident/resource/labels'],
    ],
  ])('points at the wrong fields of %j', (body, pointers) => {
    const result = normalizeBody(gcpMonitoring, body);
    if (result.kind !== 'invalid') throw new Error(JSON.stringify(result));
    expect(result.errors.map((e) => e.pointer)).toEqual(pointers);
  });

  it.each([null, [], 42, 'x', true])('answers %j as invalid at the root', (body) => {
    const result = normalizeBody(gcpMonitoring, body);
    if (result.kind !== 'invalid') throw new Error(JSON.stringify(result));
    expect(result.errors.map((e) => e.pointer)).toEqual(['']);
  });

  it('never throws, whatever the body', () => {
    const base = fixture('incident-v1.2-open.json');
    fc.assert(
      fc.property(fc.anything(), fc.dictionary(fc.string(), fc.anything()), (body, fields) => {
        expect(['alerts', 'invalid']).toContain(normalizeBody(gcpMonitoring, body).kind);
        const mixed = { ...base, incident: { ...base.incident, ...fields } };
        expect(['alerts', 'invalid']).toContain(normalizeBody(gcpMonitoring, mixed).kind);
      }),
    );
  });
});
