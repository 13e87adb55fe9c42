import type { Source } from '../normalize.ts';
import { alertmanager } from './alertmanager.ts';
import { azureMonitor } from './azure-monitor.ts';
import { cloudevents } from './cloudevents.ts';
import { cloudwatch } from './cloudwatch.ts';
import { datadog } from './datadog.ts';
import { dynatrace } from './dynatrace.ts';
import { gcpMonitoring } from './gcp-monitoring.ts';
import { generic } from './generic.ts';
import { grafana } from './grafana.ts';
import { newrelic } from './newrelic.ts';
import { opsgenie } from './opsgenie.ts';
import { pagerduty } from './pagerduty.ts';
import { sentry } from './sentry.ts';
import { splunk } from './splunk.ts';
import { zabbix } from './zabbix.ts';

/** Every source Tocsin reads, by the name in `POST /api/v1/ingest/{source}`. */
export const sources = {
  alertmanager,
  'azure-monitor': azureMonitor,
  cloudevents,
  cloudwatch,
  datadog,
  dynatrace,
  'gcp-monitoring': gcpMonitoring,
  generic,
  grafana,
  newrelic,
  opsgenie,
  pagerduty,
  sentry,
  splunk,
  zabbix,
} as const satisfies Record<string, Source>;

/** A source's name. */
export type SourceName = keyof typeof sources;

/** Whether a path segment names a known source. */
export function isSourceName(name: string): name is SourceName {
  return Object.hasOwn(sources, name);
}
