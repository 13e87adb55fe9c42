import { z } from 'zod';
import type { Severity } from '../../correlator/alert.ts';
import {
  invalidField,
  mapSeverity,
  toAlert,
  toLabels,
  toTimestamp,
  validate,
  type Normalized,
  type Source,
} from '../normalize.ts';

const SOURCE = 'azure-monitor';
const COMMON_SCHEMA = 'azureMonitorCommonAlertSchema';

const oldSchema = (what: string) =>
  `This is Azure Monitor's older alert schema (${what}); enable the common alert schema on the action group's webhook action (Azure portal: Monitor > Alerts > Action groups > the group > Actions > the webhook > "Enable the common alert schema": Yes) and send the alert again.`;

/** Keys of the pre-common payloads (classic metric alerts, old log search alerts). */
const OLD_SCHEMA_KEYS = [
  'data',
  'context',
  'status',
  'SearchQuery',
  'AlertRuleName',
  'WorkspaceId',
];

/** Only `essentials` is read strictly; `alertContext` differs with every monitoring service. */
const commonSchema = z.looseObject({
  data: z.looseObject({
    essentials: z.looseObject({
      alertId: z.string().trim().min(1),
      alertRule: z.string().nullish(),
      alertRuleID: z.string().nullish(),
      alertRuleId: z.string().nullish(),
      severity: z.string().nullish(),
      signalType: z.string().nullish(),
      monitorCondition: z
        .string()
        .refine((v) => /^(fired|resolved)$/i.test(v), 'must be "Fired" or "Resolved"'),
      monitoringService: z.string().nullish(),
      alertTargetIDs: z.array(z.string()).nullish(),
      configurationItems: z.array(z.string()).nullish(),
      firedDateTime: z.string().nullish(),
      resolvedDateTime: z.string().nullish(),
      description: z.string().nullish(),
      investigationLink: z.string().nullish(),
    }),
    alertContext: z.unknown().optional(),
    customProperties: z.unknown().optional(),
  }),
});

const record = z.record(z.string(), z.unknown());

/** The parts of a metric or log search alert's context worth showing; others are ignored. */
const contextSchema = z.looseObject({
  properties: record.nullish(),
  labels: record.nullish(),
  condition: z
    .looseObject({
      allOf: z
        .array(
          z.looseObject({
            metricName: z.string().nullish(),
            searchQuery: z.string().nullish(),
            operator: z.string().nullish(),
            threshold: z.union([z.string(), z.number()]).nullish(),
            metricValue: z.union([z.string(), z.number()]).nullish(),
            dimensions: z.array(z.looseObject({ name: z.string(), value: z.string() })).nullish(),
            linkToSearchResultsUI: z.string().nullish(),
            linkToFilteredSearchResultsUI: z.string().nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
});

/** Azure's severities by their documented names: Critical, Error, Warning, Informational, Verbose. */
const SEVERITY: Record<string, Severity> = {
  sev0: 'critical',
  sev1: 'major',
  sev2: 'warning',
  sev3: 'info',
  sev4: 'info',
};

const RESOURCE_SCOPE = /^\/subscriptions\/([^/]+)(?:\/resourceGroups\/([^/]+))?/i;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Azure Monitor alerts in the common alert schema, fired and resolved: the alert id is the
 * fingerprint. The older per-signal schemas are refused with how to switch (422).
 */
export const azureMonitor: Source = {
  normalize({ body, receivedAt }): Normalized {
    if (!isRecord(body)) return invalidField([], 'must be an Azure Monitor alert object');
    const schemaId = body.schemaId;
    if (schemaId === undefined || schemaId === null) {
      if (OLD_SCHEMA_KEYS.some((key) => key in body))
        return { kind: 'unprocessable', detail: oldSchema('no schemaId') };
      return invalidField(['schemaId'], `must be "${COMMON_SCHEMA}"`);
    }
    if (typeof schemaId !== 'string') return invalidField(['schemaId'], 'must be a string');
    if (schemaId.toLowerCase() !== COMMON_SCHEMA.toLowerCase())
      return {
        kind: 'unprocessable',
        detail: oldSchema(`schemaId "${schemaId}"`),
        pointer: '/schemaId',
      };

    const parsed = validate(commonSchema, body);
    if (!parsed.ok) return parsed.result;
    const { essentials: e, alertContext, customProperties } = parsed.value.data;
    const context = contextSchema.safeParse(alertContext);
    const ctx = context.success ? context.data : null;
    const conditions = ctx?.condition?.allOf ?? [];

    const resolved = e.monitorCondition.toLowerCase() === 'resolved';
    const target = e.alertTargetIDs?.[0];
    const scope = target?.match(RESOURCE_SCOPE);
    const criteria = conditions
      .filter((c) => c.operator)
      .map((c) =>
        [
          c.metricName ?? c.searchQuery ?? 'condition',
          c.operator,
          c.threshold,
          c.metricValue == null ? null : `(value ${c.metricValue})`,
        ]
          .filter((part) => part != null && part !== '')
          .join(' '),
      );
    const searchLink = conditions.find(
      (c) => c.linkToFilteredSearchResultsUI ?? c.linkToSearchResultsUI,
    );
    const dimensions = Object.fromEntries(
      conditions.flatMap((c) => c.dimensions ?? []).map((d) => [d.name, d.value]),
    );

    const alert = toAlert(
      {
        title: e.alertRule,
        description: [e.description, ...criteria].filter((text) => text?.trim()).join('\n\n'),
        severity: mapSeverity(e.severity, SEVERITY),
        status: resolved ? 'resolved' : 'firing',
        ci: e.configurationItems?.find((item) => item.trim()) ?? target?.split('/').pop(),
        source: SOURCE,
        fingerprint: `${SOURCE}:${e.alertId}`,
        labels: toLabels(
          dimensions,
          isRecord(customProperties) ? customProperties : null,
          ctx?.properties,
          ctx?.labels,
          {
            azure_severity: e.severity,
            monitor_condition: e.monitorCondition,
            monitoring_service: e.monitoringService,
            signal_type: e.signalType,
            alert_rule_id: e.alertRuleID ?? e.alertRuleId,
            target_resource_id: target,
            subscription_id: scope?.[1],
            resource_group: scope?.[2],
            investigation_link: e.investigationLink,
            search_results_url:
              searchLink?.linkToFilteredSearchResultsUI ?? searchLink?.linkToSearchResultsUI,
          },
        ),
        startsAt: toTimestamp(e.firedDateTime),
        endsAt: resolved ? toTimestamp(e.resolvedDateTime) : null,
      },
      receivedAt,
    );
    return { kind: 'alerts', alerts: [alert] };
  },
};
