import { z } from 'zod';
import type { Alert, AlertStatus, Severity } from '../../correlator/alert.ts';
import {
  issuesToErrors,
  mapSeverity,
  toAlert,
  toLabels,
  toTimestamp,
  validate,
  type Normalized,
  type Source,
} from '../normalize.ts';
import { parsePayload } from '../payload.ts';

const SOURCE = 'cloudwatch';

/** The SNS HTTP(S) envelope; `Message` is a string, a JSON alarm for CloudWatch. */
const envelopeSchema = z.looseObject({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  MessageId: z.string().trim().min(1),
  TopicArn: z.string().nullish(),
  Subject: z.string().nullish(),
  Message: z.string(),
  Timestamp: z.string().nullish(),
  SubscribeURL: z.string().nullish(),
  Token: z.string().nullish(),
});
type Envelope = z.output<typeof envelopeSchema>;

const dimensionsSchema = z.array(z.looseObject({ name: z.string(), value: z.string() })).nullish();

const metricSchema = z.looseObject({
  MetricName: z.string().nullish(),
  Namespace: z.string().nullish(),
  Dimensions: dimensionsSchema,
});

/** The alarm CloudWatch publishes: a single-metric, metric-math or composite alarm. */
const alarmSchema = z.looseObject({
  AlarmName: z.string().trim().min(1),
  AlarmArn: z.string().nullish(),
  AlarmDescription: z.string().nullish(),
  AWSAccountId: z.union([z.string(), z.number()]).nullish(),
  NewStateValue: z.enum(['ALARM', 'OK', 'INSUFFICIENT_DATA']),
  NewStateReason: z.string().nullish(),
  StateChangeTime: z.string().nullish(),
  Region: z.string().nullish(),
  OldStateValue: z.string().nullish(),
  Trigger: metricSchema
    .extend({
      // Metric-math alarms list their metrics here instead of MetricName/Dimensions.
      Metrics: z
        .array(
          z.looseObject({
            MetricStat: z.looseObject({ Metric: metricSchema.nullish() }).nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
});
type Alarm = z.output<typeof alarmSchema>;

const STATUS: Record<Alarm['NewStateValue'], AlertStatus> = {
  ALARM: 'firing',
  OK: 'resolved',
  // Missing data proves nothing recovered: the alert stays open, at info, until OK.
  INSUFFICIENT_DATA: 'firing',
};

/** CloudWatch alarms carry no severity: an alarm (firing or cleared) is major, missing data info. */
const SEVERITY: Record<string, Severity> = {
  alarm: 'major',
  ok: 'major',
  insufficient_data: 'info',
};

/**
 * Dimensions that name the resource an alarm watches, most specific first: the CI is the first
 * of these present, else the first dimension, else the alarm name.
 */
const RESOURCE_DIMENSIONS = [
  'InstanceId',
  'DBInstanceIdentifier',
  'DBClusterIdentifier',
  'CacheClusterId',
  'ClusterIdentifier',
  'FunctionName',
  'TableName',
  'QueueName',
  'TopicName',
  'BucketName',
  'StreamName',
  'DeliveryStreamName',
  'StateMachineArn',
  'PodName',
  'ServiceName',
  'NodeName',
  'ClusterName',
  'TargetGroup',
  'LoadBalancer',
  'LoadBalancerName',
  'AutoScalingGroupName',
  'VolumeId',
  'FileSystemId',
  'NatGatewayId',
  'DistributionId',
  'DomainName',
  'ApiName',
  'ApiId',
  'HealthCheckId',
  'host',
];

type Dimension = { name: string; value: string };

function ciOf(dimensions: readonly Dimension[], alarmName: string): string {
  const named = dimensions.filter((d) => d.value.trim());
  for (const name of RESOURCE_DIMENSIONS) {
    const found = named.find((d) => d.name === name);
    if (found) return found.value;
  }
  return named[0]?.value ?? alarmName;
}

function alarmAlert(
  alarm: Alarm,
  sns: { topicArn: string | null | undefined; timestamp: string | null | undefined },
  receivedAt: Date,
): Alert {
  const trigger = alarm.Trigger;
  const metrics = (trigger?.Metrics ?? []).flatMap((m) =>
    m.MetricStat?.Metric ? [m.MetricStat.Metric] : [],
  );
  const dimensions: Dimension[] = trigger?.Dimensions?.length
    ? trigger.Dimensions
    : metrics.flatMap((m) => m.Dimensions ?? []);
  const status = STATUS[alarm.NewStateValue];
  const changedAt = toTimestamp(alarm.StateChangeTime) ?? toTimestamp(sns.timestamp);
  const account = alarm.AWSAccountId == null ? '' : String(alarm.AWSAccountId);
  return toAlert(
    {
      title: alarm.AlarmName,
      description: [alarm.AlarmDescription, alarm.NewStateReason]
        .filter((text) => text?.trim())
        .join('\n\n'),
      severity: mapSeverity(alarm.NewStateValue, SEVERITY),
      status,
      ci: ciOf(dimensions, alarm.AlarmName),
      source: SOURCE,
      fingerprint: `${SOURCE}:${alarm.AlarmArn?.trim() || `${account}/${alarm.Region ?? ''}/${alarm.AlarmName}`}`,
      labels: toLabels(Object.fromEntries(dimensions.map((d) => [d.name, d.value])), {
        alarm_arn: alarm.AlarmArn,
        aws_account_id: account || null,
        region: alarm.Region,
        namespace: trigger?.Namespace ?? metrics[0]?.Namespace,
        metric_name: trigger?.MetricName ?? metrics[0]?.MetricName,
        alarm_state: alarm.NewStateValue,
        previous_state: alarm.OldStateValue,
        sns_topic_arn: sns.topicArn,
      }),
      // The store keeps the earliest start, so a clear's change time never moves the start later.
      startsAt: changedAt,
      endsAt: status === 'resolved' ? changedAt : null,
    },
    receivedAt,
  );
}

/** An SNS notification that is not an alarm: its subject and text, as sent. */
function textAlert(envelope: Envelope, receivedAt: Date): Alert {
  const firstLine = envelope.Message.trim().split('\n', 1)[0]?.slice(0, 200);
  return toAlert(
    {
      title: envelope.Subject?.trim() || firstLine,
      description: envelope.Message,
      source: SOURCE,
      labels: toLabels({ sns_topic_arn: envelope.TopicArn }),
      startsAt: toTimestamp(envelope.Timestamp),
    },
    receivedAt,
  );
}

/** Reads an SNS Message: a JSON object with an AlarmName is an alarm, anything else text. */
function parseAlarm(message: string): { kind: 'alarm'; alarm: unknown } | { kind: 'text' } {
  let parsed: unknown;
  try {
    parsed = parsePayload(message);
  } catch {
    return { kind: 'text' };
  }
  const isAlarm =
    typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    'AlarmName' in parsed;
  return isAlarm ? { kind: 'alarm', alarm: parsed } : { kind: 'text' };
}

function notification(envelope: Envelope, receivedAt: Date): Normalized {
  const message = parseAlarm(envelope.Message);
  if (message.kind === 'text')
    return {
      kind: 'alerts',
      alerts: [textAlert(envelope, receivedAt)],
      deliveryId: envelope.MessageId,
    };
  const alarm = alarmSchema.safeParse(message.alarm);
  if (!alarm.success) {
    // A pointer cannot reach into a string: point at Message and name the alarm's field.
    return {
      kind: 'invalid',
      errors: issuesToErrors(alarm.error.issues).map((e) => ({
        pointer: '/Message',
        detail: `the CloudWatch alarm in Message, at ${e.pointer || '/'}: ${e.detail}`,
      })),
    };
  }
  return {
    kind: 'alerts',
    alerts: [
      alarmAlert(
        alarm.data,
        { topicArn: envelope.TopicArn, timestamp: envelope.Timestamp },
        receivedAt,
      ),
    ],
    deliveryId: envelope.MessageId,
  };
}

function strings(fields: Record<string, string | null | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fields).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
}

/** A subscription (un)confirmation: shown to admins, who confirm it; nothing is fetched here. */
function subscriptionNotice(envelope: Envelope): Normalized {
  const topic = envelope.TopicArn ?? 'an SNS topic';
  const summary =
    envelope.Type === 'SubscriptionConfirmation'
      ? `AWS SNS asks to confirm this endpoint's subscription to ${topic}: an admin opens the SubscribeURL (or calls ConfirmSubscription with the token) before any alarm arrives.`
      : `AWS SNS unsubscribed this endpoint from ${topic}: no more alarms arrive from it; an admin opens the SubscribeURL to subscribe again.`;
  return {
    kind: 'notice',
    notice: {
      kind: 'sns-subscription',
      summary,
      details: strings({
        type: envelope.Type,
        topicArn: envelope.TopicArn,
        subscribeUrl: envelope.SubscribeURL,
        token: envelope.Token,
        messageId: envelope.MessageId,
        message: envelope.Message,
        timestamp: envelope.Timestamp,
      }),
    },
    deliveryId: envelope.MessageId,
  };
}

/**
 * CloudWatch alarms through an AWS SNS HTTP(S) subscription. SNS posts text/plain; a
 * Notification's Message is the alarm as a JSON string (a plain-text Message becomes an alert
 * too), and subscription confirmations become notices for an admin. Raw message delivery (the
 * alarm itself as the body) is read as well.
 */
export const cloudwatch: Source = {
  mediaTypes: ['text/plain'],
  normalize(input): Normalized {
    const { body, receivedAt } = input;
    const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
    if (isObject && !('Type' in body) && 'AlarmName' in body) {
      const alarm = validate(alarmSchema, body);
      if (!alarm.ok) return alarm.result;
      const alert = alarmAlert(
        alarm.value,
        { topicArn: input.header('x-amz-sns-topic-arn'), timestamp: null },
        receivedAt,
      );
      return {
        kind: 'alerts',
        alerts: [alert],
        deliveryId: input.header('x-amz-sns-message-id') ?? null,
      };
    }
    const envelope = validate(envelopeSchema, body);
    if (!envelope.ok) return envelope.result;
    switch (envelope.value.Type) {
      case 'Notification':
        return notification(envelope.value, receivedAt);
      case 'SubscriptionConfirmation':
      case 'UnsubscribeConfirmation':
        return subscriptionNotice(envelope.value);
    }
  },
};
