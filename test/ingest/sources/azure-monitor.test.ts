import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../correlator/alert.ts';
import type { Normalized } from '../../../ingest/normalize.ts';
import { parsePayload } from '../../../ingest/payload.ts';
import { azureMonitor } from '../../../ingest/sources/azure-monitor.ts';
import {
  fixtureFiles,
  normalizeBody,
  normalizeFixture,
  readFixture,
} from '../../support/fixtures.ts';

const DIR = 'azure-monitor';

type Body = {
  schemaId: string;
  data: { essentials: Record<string, unknown> } & Record<string, unknown>;
};
const fixture = (file: string) => parsePayload(readFixture(DIR, file)) as Body;
/** The resolved fixture with some essentials replaced. */
const withEssentials = (essentials: Record<string, unknown>): Body => {
  const body = fixture('common-schema-metric-resolved.json');
  return {
    ...body,
    data: { ...body.data, essentials: { ...body.data.essentials, ...essentials } },
  };
};

const alertsOf = (result: Normalized): Alert[] => {
  if (result.kind !== 'alerts') throw new Error(`expected alerts, got ${JSON.stringify(result)}`);
  return result.alerts;
};

const OLD_SCHEMA_HOWTO =
  'enable the common alert schema on the action group\'s webhook action (Azure portal: Monitor > Alerts > Action groups > the group > Actions > the webhook > "Enable the common alert schema": Yes) and send the alert again.';

const logSubscription = '12345a-1234b-123c-123d-12345678e';
const logVm = `/subscriptions/${logSubscription}/resourceGroups/TEST/providers/Microsoft.Compute/virtualMachines/testvm`;

const metricResolved: Alert = {
  title: 'WCUS-R2-Gen2',
  // The docs' description is empty: the metric criterion is the only text there is.
  description: 'Percentage CPU GreaterThan 25 (value 7.727)',
  severity: 'info',
  status: 'resolved',
  ci: 'wcus-r2-gen2',
  service: null,
  source: 'azure-monitor',
  fingerprint:
    'azure-monitor:/subscriptions/<subscription ID>/providers/Microsoft.AlertsManagement/alerts/aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e',
  labels: {
    ResourceId: 'a0a0a0a0-bbbb-cccc-dddd-e1e1e1e1e1e1',
    Key1: 'Value1',
    Key2: 'Value2',
    azure_severity: 'Sev3',
    monitor_condition: 'Resolved',
    monitoring_service: 'Platform',
    signal_type: 'Metric',
    alert_rule_id:
      '/subscriptions/<subscription ID>/resourceGroups/<resource-group>/providers/microsoft.insights/metricAlerts/WCUS-R2-Gen2',
    target_resource_id:
      '/subscriptions/<subscription ID>/resourcegroups/pipelinealertrg/providers/microsoft.compute/virtualmachines/wcus-r2-gen2',
    subscription_id: '<subscription ID>',
    resource_group: 'pipelinealertrg',
  },
  startsAt: '2019-03-22T13:58:24.371Z',
  endsAt: '2019-03-22T14:03:16.224Z',
};

const cases: Record<string, Normalized> = {
  'common-schema-metric-resolved.json': { kind: 'alerts', alerts: [metricResolved] },
  'common-schema-log-v2-fired.json': {
    kind: 'alerts',
    alerts: [
      {
        title: 'AcmeRule',
        description: 'log alert rule V2\n\nHeartbeat LowerThan 1 (value 0)',
        severity: 'info',
        status: 'firing',
        // No configurationItems: the target resource's name.
        ci: 'testvm',
        service: null,
        source: 'azure-monitor',
        fingerprint: `azure-monitor:/subscriptions/${logSubscription}/providers/Microsoft.AlertsManagement/alerts/12345a-1234b-123c-123d-12345678e`,
        labels: {
          ResourceId: logVm,
          name1: 'value1',
          name2: 'value2',
          azure_severity: 'Sev4',
          monitor_condition: 'Fired',
          monitoring_service: 'Log Alerts V2',
          signal_type: 'Log',
          target_resource_id: `/subscriptions/${logSubscription}/resourcegroups/ai-engineering/providers/microsoft.compute/virtualmachines/testvm`,
          subscription_id: logSubscription,
          resource_group: 'ai-engineering',
          search_results_url:
            'https://portal.azure.com#@12f345bf-12f3-12af-12ab-1d2cd345db67/blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/source/Alerts.EmailLinks/scope/%7B%22resources%22%3A%5B%7B%22resourceId%22%3A%22%2Fsubscriptions%2F12345a-1234b-123c-123d-12345678e%2FresourceGroups%2FTEST%2Fproviders%2FMicrosoft.Compute%2FvirtualMachines%2Ftestvm%22%7D%5D%7D/q/eJzzSE0sKklKTSypUSjPSC1KVQjJzE11T81LLUosSU1RSEotKU9NzdNIAfJKgDIaRgZGBroG5roGliGGxlYmJlbGJnoGEKCpp4dDmSmKMk0A/prettify/1/timespan/2020-07-07T13%3a54%3a34.0000000Z%2f2020-07-09T13%3a54%3a34.0000000Z',
        },
        startsAt: '2020-07-09T14:04:49.996Z',
        endsAt: null,
      },
    ],
  },
  'non-common-metric-alert-activated.json': {
    kind: 'unprocessable',
    detail: `This is Azure Monitor's older alert schema (schemaId "AzureMonitorMetricAlert"); ${OLD_SCHEMA_HOWTO}`,
    pointer: '/schemaId',
  },
};

describe('azure-monitor normalizer', () => {
  it('has a case for every fixture', () => {
    expect(Object.keys(cases).sort()).toEqual(fixtureFiles(DIR));
  });

  it.each(Object.entries(cases))('normalizes %s', (file, expected) => {
    expect(normalizeFixture(azureMonitor, DIR, file)).toEqual(expected);
  });

  it('fires and resolves under the same fingerprint, the alert id', () => {
    const fired = withEssentials({ monitorCondition: 'Fired', resolvedDateTime: null });
    const [alert] = alertsOf(normalizeBody(azureMonitor, fired));
    expect(alert).toEqual({
      ...metricResolved,
      status: 'firing',
      labels: { ...metricResolved.labels, monitor_condition: 'Fired' },
      endsAt: null,
    });
  });

  it.each([
    ['Sev0', 'critical'],
    ['Sev1', 'major'],
    ['Sev2', 'warning'],
    ['Sev3', 'info'],
    ['Sev4', 'info'],
    [null, 'warning'],
  ])('maps severity %s to %s', (severity, expected) => {
    const [alert] = alertsOf(normalizeBody(azureMonitor, withEssentials({ severity })));
    expect(alert?.severity).toBe(expected);
  });

  it('refuses the pre-common payloads that carry no schemaId', () => {
    const classic = { status: 'Activated', context: { name: 'StorageCheck' }, properties: {} };
    expect(normalizeBody(azureMonitor, classic)).toEqual({
      kind: 'unprocessable',
      detail: `This is Azure Monitor's older alert schema (no schemaId); ${OLD_SCHEMA_HOWTO}`,
    });
    const activityLog = { schemaId: 'Microsoft.Insights/activityLogs', data: {} };
    expect(normalizeBody(azureMonitor, activityLog)).toMatchObject({
      kind: 'unprocessable',
      pointer: '/schemaId',
    });
  });

  it('reads an alert whose alertContext is of another service, or odd', () => {
    for (const alertContext of [null, 'text', { condition: [1, 2] }, { labels: 7 }]) {
      const body = withEssentials({});
      const [alert] = alertsOf(
        normalizeBody(azureMonitor, { ...body, data: { ...body.data, alertContext } }),
      );
      expect(alert?.fingerprint).toBe(metricResolved.fingerprint);
      expect(alert?.description).toBeNull();
    }
  });

  it("takes a Prometheus alert context's labels", () => {
    const body = withEssentials({});
    const alertContext = { labels: { alertname: 'KubePodCrashLooping', namespace: 'prod' } };
    const [alert] = alertsOf(
      normalizeBody(azureMonitor, { ...body, data: { ...body.data, alertContext } }),
    );
    expect(alert?.labels).toMatchObject({ alertname: 'KubePodCrashLooping', namespace: 'prod' });
  });

  it.each([
    [{}, ['/schemaId']],
    [{ schemaId: 42 }, ['/schemaId']],
    [{ schemaId: 'azureMonitorCommonAlertSchema' }, ['/data']],
    [{ schemaId: 'azureMonitorCommonAlertSchema', data: {} }, ['/data/essentials']],
    [
      { schemaId: 'azureMonitorCommonAlertSchema', data: { essentials: {} } },
      ['/data/essentials/alertId', '/data/essentials/monitorCondition'],
    ],
    [withEssentials({ monitorCondition: 'Acknowledged' }), ['/data/essentials/monitorCondition']],
    [withEssentials({ alertTargetIDs: 'vm-1' }), ['/data/essentials/alertTargetIDs']],
  ])('points at the wrong fields of %j', (body, pointers) => {
    const result = normalizeBody(azureMonitor, body);
    if (result.kind !== 'invalid') throw new Error(JSON.stringify(result));
    expect(result.errors.map((e) => e.pointer)).toEqual(pointers);
  });

  it.each([null, [], 42, 'x', true])('answers %j as invalid at the root', (body) => {
    expect(normalizeBody(azureMonitor, body)).toEqual({
      kind: 'invalid',
      errors: [{ pointer: '', detail: 'must be an Azure Monitor alert object' }],
    });
  });

  it('never throws, whatever the body', () => {
    const kinds = ['alerts', 'invalid', 'unprocessable'];
    const base = fixture('common-schema-log-v2-fired.json');
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.string(), (body, context, target) => {
        expect(kinds).toContain(normalizeBody(azureMonitor, body).kind);
        const mixed = { ...base, data: { essentials: body, alertContext: context } };
        expect(kinds).toContain(normalizeBody(azureMonitor, mixed).kind);
        const partly = withEssentials({ alertTargetIDs: [target], configurationItems: [] });
        expect(kinds).toContain(
          normalizeBody(azureMonitor, {
            ...partly,
            data: { ...partly.data, alertContext: context },
          }).kind,
        );
      }),
    );
  });
});
