import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../correlator/alert.ts';
import { deriveFingerprint } from '../../../ingest/fingerprint.ts';
import type { Normalized } from '../../../ingest/normalize.ts';
import { parsePayload } from '../../../ingest/payload.ts';
import { cloudwatch } from '../../../ingest/sources/cloudwatch.ts';
import {
  fixtureFiles,
  normalizeBody,
  normalizeFixture,
  readFixture,
} from '../../support/fixtures.ts';

const DIR = 'cloudwatch-sns';
const TOPIC = 'arn:aws:sns:eu-west-1:1234567890:alerta-test';

/** The headers SNS sends with a delivery of the given type. */
const sns = (type: string): Record<string, string> => ({
  'Content-Type': 'text/plain; charset=UTF-8',
  'x-amz-sns-message-type': type,
  'x-amz-sns-topic-arn': TOPIC,
});

/** A fixture's envelope as an object, to derive variants of a captured delivery. */
const envelope = (file: string) => parsePayload(readFixture(DIR, file)) as Record<string, unknown>;
/** The alarm inside a fixture's Message string. */
const alarmOf = (file: string) =>
  parsePayload(envelope(file).Message as string) as Record<string, unknown>;
/** A fixture's envelope whose Message is the given alarm, re-encoded as SNS sends it. */
const withAlarm = (file: string, alarm: Record<string, unknown>) => ({
  ...envelope(file),
  Message: JSON.stringify(alarm),
});

const alertsOf = (result: Normalized): Alert[] => {
  if (result.kind !== 'alerts') throw new Error(`expected alerts, got ${JSON.stringify(result)}`);
  return result.alerts;
};

const bucketAlarm: Alert = {
  title: 'bucketbytesAlarm',
  description:
    'bucket bytes size exceeded\n\nThreshold Crossed: 1 datapoint [1062305.0 (14/02/19 23:53:00)] was greater than or equal to the threshold (0.0).',
  severity: 'major',
  status: 'firing',
  // BucketName names the resource; StorageType, the first dimension, only qualifies it.
  ci: 'try.alerta.io',
  service: null,
  source: 'cloudwatch',
  // No AlarmArn in this (older) message: account, region and name identify the alarm.
  fingerprint: 'cloudwatch:1234567890/EU (Ireland)/bucketbytesAlarm',
  labels: {
    StorageType: 'StandardStorage',
    BucketName: 'try.alerta.io',
    aws_account_id: '1234567890',
    region: 'EU (Ireland)',
    namespace: 'AWS/S3',
    metric_name: 'BucketSizeBytes',
    alarm_state: 'ALARM',
    previous_state: 'INSUFFICIENT_DATA',
    sns_topic_arn: TOPIC,
  },
  startsAt: '2019-02-15T23:53:45.093Z',
  endsAt: null,
};

const cases: Record<string, { headers: Record<string, string>; expected: Normalized }> = {
  'notification-alarm.json': {
    headers: sns('Notification'),
    expected: {
      kind: 'alerts',
      alerts: [bucketAlarm],
      deliveryId: 'e288882d-4281-5be4-8fde-dccc11c8cb01',
    },
  },
  'notification-insufficient-data.json': {
    headers: sns('Notification'),
    expected: {
      kind: 'alerts',
      alerts: [
        {
          // The Subject says "NotificationCount"; the alarm's real name is AlarmName.
          title: 'notificationCountAlarm',
          description:
            'number of notifications exceeded\n\nInsufficient Data: 10 datapoints were unknown.',
          severity: 'info',
          status: 'firing',
          ci: 'alerta-test',
          service: null,
          source: 'cloudwatch',
          fingerprint: 'cloudwatch:1234567890/EU (Ireland)/notificationCountAlarm',
          labels: {
            TopicName: 'alerta-test',
            aws_account_id: '1234567890',
            region: 'EU (Ireland)',
            namespace: 'AWS/SNS',
            metric_name: 'NumberOfNotificationsDelivered',
            alarm_state: 'INSUFFICIENT_DATA',
            previous_state: 'ALARM',
            sns_topic_arn: TOPIC,
          },
          startsAt: '2019-05-13T08:41:43.548Z',
          endsAt: null,
        },
      ],
      deliveryId: '3a6a339c-60fc-5718-875e-66cf50fbf89a',
    },
  },
  'subscription-confirmation.json': {
    headers: sns('SubscriptionConfirmation'),
    expected: {
      kind: 'notice',
      notice: {
        kind: 'sns-subscription',
        summary: `AWS SNS asks to confirm this endpoint's subscription to ${TOPIC}: an admin opens the SubscribeURL (or calls ConfirmSubscription with the token) before any alarm arrives.`,
        details: {
          type: 'SubscriptionConfirmation',
          topicArn: TOPIC,
          subscribeUrl:
            'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:eu-west-1:1234567890:alerta-test&Token=2336412f37fb687f5d51e6e241da92fd72d769c5b4ca6fd6cd6d30949d5a51abf7e21aae199b52813b6f2ea51b41e3119b599532d25df4e6aea368b3a6d8272d38688f73c116b04204e9afb2f5b1d8c4bdb823103299a9f1da7409f1dcf4096ba20a0b0222cc493586e76450e3be6715',
          token:
            '2336412f37fb687f5d51e6e241da92fd72d769c5b4ca6fd6cd6d30949d5a51abf7e21aae199b52813b6f2ea51b41e3119b599532d25df4e6aea368b3a6d8272d38688f73c116b04204e9afb2f5b1d8c4bdb823103299a9f1da7409f1dcf4096ba20a0b0222cc493586e76450e3be6715',
          messageId: '8a14e4f3-f3ab-4be0-a12f-681ee8fe214f',
          message:
            'You have chosen to subscribe to the topic arn:aws:sns:eu-west-1:1234567890:alerta-test.\nTo confirm the subscriptionDataBuilder, visit the SubscribeURL included in this message.',
          timestamp: '2018-07-08T21:33:44.782Z',
        },
      },
      deliveryId: '8a14e4f3-f3ab-4be0-a12f-681ee8fe214f',
    },
  },
};

describe('cloudwatch normalizer', () => {
  it('has a case for every fixture', () => {
    expect(Object.keys(cases).sort()).toEqual(fixtureFiles(DIR));
  });

  it.each(Object.entries(cases))('normalizes %s', (file, { headers, expected }) => {
    expect(normalizeFixture(cloudwatch, DIR, file, headers)).toEqual(expected);
  });

  it('reads text/plain bodies, as SNS sends them', () => {
    expect(cloudwatch.mediaTypes).toContain('text/plain');
  });

  it('resolves an OK alarm under the fingerprint of its ALARM', () => {
    const ok = withAlarm('notification-alarm.json', {
      ...alarmOf('notification-alarm.json'),
      NewStateValue: 'OK',
      OldStateValue: 'ALARM',
      NewStateReason: 'Threshold Crossed: 1 datapoint [0.0] was not greater than or equal to 0.0.',
      StateChangeTime: '2019-02-16T00:53:45.093+0000',
    });
    const [alert] = alertsOf(normalizeBody(cloudwatch, ok, sns('Notification')));
    expect(alert).toEqual({
      ...bucketAlarm,
      description:
        'bucket bytes size exceeded\n\nThreshold Crossed: 1 datapoint [0.0] was not greater than or equal to 0.0.',
      status: 'resolved',
      labels: { ...bucketAlarm.labels, alarm_state: 'OK', previous_state: 'ALARM' },
      startsAt: '2019-02-16T00:53:45.093Z',
      endsAt: '2019-02-16T00:53:45.093Z',
    });
    expect(alert?.fingerprint).toBe(bucketAlarm.fingerprint);
  });

  it('uses the AlarmArn as the fingerprint when the alarm carries one', () => {
    const arn = 'arn:aws:cloudwatch:eu-west-1:1234567890:alarm:bucketbytesAlarm';
    const body = withAlarm('notification-alarm.json', {
      ...alarmOf('notification-alarm.json'),
      AlarmArn: arn,
    });
    const [alert] = alertsOf(normalizeBody(cloudwatch, body, sns('Notification')));
    expect(alert?.fingerprint).toBe(`cloudwatch:${arn}`);
    expect(alert?.labels.alarm_arn).toBe(arn);
  });

  it('takes the CI from a metric-math alarm, and the alarm name when nothing names a resource', () => {
    const { Trigger: _trigger, ...rest } = alarmOf('notification-alarm.json');
    const mathAlarm = {
      ...rest,
      Trigger: {
        Period: 60,
        Metrics: [
          { Expression: 'm1*100', Id: 'e1', ReturnData: true },
          {
            Id: 'm1',
            MetricStat: {
              Metric: {
                Dimensions: [{ value: 'i-0abc', name: 'InstanceId' }],
                MetricName: 'CPUUtilization',
                Namespace: 'AWS/EC2',
              },
              Period: 60,
              Stat: 'Average',
            },
            ReturnData: false,
          },
        ],
      },
    };
    const [math] = alertsOf(
      normalizeBody(cloudwatch, withAlarm('notification-alarm.json', mathAlarm), {}),
    );
    expect(math?.ci).toBe('i-0abc');
    expect(math?.labels).toMatchObject({
      InstanceId: 'i-0abc',
      namespace: 'AWS/EC2',
      metric_name: 'CPUUtilization',
    });

    const composite = { ...rest, AlarmRule: 'ALARM(a) OR ALARM(b)' };
    const [alert] = alertsOf(
      normalizeBody(cloudwatch, withAlarm('notification-alarm.json', composite), {}),
    );
    expect(alert?.ci).toBe('bucketbytesAlarm');
  });

  it('makes a plain-text SNS message an alert titled by its Subject', () => {
    const body = {
      ...envelope('notification-alarm.json'),
      Subject: 'Backup failed',
      Message: 'The nightly backup of db-1 failed.\nSee the job log.',
    };
    const labels = { sns_topic_arn: TOPIC };
    expect(normalizeBody(cloudwatch, body, sns('Notification'))).toEqual({
      kind: 'alerts',
      alerts: [
        {
          title: 'Backup failed',
          description: 'The nightly backup of db-1 failed.\nSee the job log.',
          severity: 'warning',
          status: 'firing',
          ci: null,
          service: null,
          source: 'cloudwatch',
          fingerprint: deriveFingerprint({
            source: 'cloudwatch',
            ci: null,
            title: 'Backup failed',
            labels,
          }),
          labels,
          startsAt: '2019-02-15T23:53:45.134Z',
          endsAt: null,
        },
      ],
      deliveryId: 'e288882d-4281-5be4-8fde-dccc11c8cb01',
    });
    // Without a Subject, the first line is the title; JSON that is no alarm is text too.
    const bare = { ...body, Subject: null, Message: '{"budget":"monthly","spent":120}' };
    expect(alertsOf(normalizeBody(cloudwatch, bare, {}))[0]).toMatchObject({
      title: '{"budget":"monthly","spent":120}',
      description: '{"budget":"monthly","spent":120}',
    });
  });

  it('reads an alarm posted with raw message delivery (no envelope)', () => {
    const result = normalizeBody(cloudwatch, alarmOf('notification-alarm.json'), {
      ...sns('Notification'),
      'x-amz-sns-message-id': 'raw-1',
    });
    expect(result).toEqual({ kind: 'alerts', alerts: [bucketAlarm], deliveryId: 'raw-1' });
  });

  it('makes an UnsubscribeConfirmation a notice too', () => {
    const body = {
      ...envelope('subscription-confirmation.json'),
      Type: 'UnsubscribeConfirmation',
      Message: 'You have chosen to deactivate subscription ...',
    };
    const result = normalizeBody(cloudwatch, body, sns('UnsubscribeConfirmation'));
    if (result.kind !== 'notice') throw new Error(JSON.stringify(result));
    expect(result.notice.kind).toBe('sns-subscription');
    expect(result.notice.details.type).toBe('UnsubscribeConfirmation');
    expect(result.notice.summary).toBe(
      `AWS SNS unsubscribed this endpoint from ${TOPIC}: no more alarms arrive from it; an admin opens the SubscribeURL to subscribe again.`,
    );
    expect(result.deliveryId).toBe('8a14e4f3-f3ab-4be0-a12f-681ee8fe214f');
  });

  it.each([
    [{}, ['/Type', '/MessageId', '/Message']],
    [{ Type: 'Ping', MessageId: 'm', Message: 'x' }, ['/Type']],
    [{ Type: 'Notification', MessageId: 'm', Message: { AlarmName: 'a' } }, ['/Message']],
    [{ Type: 'Notification', MessageId: '', Message: 'x' }, ['/MessageId']],
  ])('points at the wrong envelope fields of %j', (body, pointers) => {
    const result = normalizeBody(cloudwatch, body);
    if (result.kind !== 'invalid') throw new Error(JSON.stringify(result));
    expect(result.errors.map((e) => e.pointer)).toEqual(pointers);
  });

  it('points at Message, naming the field, when the alarm inside it is malformed', () => {
    const body = withAlarm('notification-alarm.json', {
      ...alarmOf('notification-alarm.json'),
      NewStateValue: 'PANIC',
    });
    const result = normalizeBody(cloudwatch, body);
    if (result.kind !== 'invalid') throw new Error(JSON.stringify(result));
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]?.pointer).toBe('/Message');
    expect(result.errors[0]?.detail).toMatch(
      /^the CloudWatch alarm in Message, at \/NewStateValue:/,
    );
  });

  it.each([null, [], 42, 'x', {}, true])('answers %j without throwing', (body) => {
    expect(normalizeBody(cloudwatch, body)).toMatchObject({ kind: 'invalid' });
  });

  it('never throws, whatever the body or the Message string', () => {
    const kinds = ['alerts', 'notice', 'invalid', 'unprocessable'];
    fc.assert(
      fc.property(fc.anything(), (body) => {
        expect(kinds).toContain(normalizeBody(cloudwatch, body).kind);
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), fc.jsonValue(), (message, alarm) => {
        const base = envelope('notification-alarm.json');
        for (const Message of [message, JSON.stringify({ AlarmName: 'a', Trigger: alarm })])
          expect(kinds).toContain(normalizeBody(cloudwatch, { ...base, Message }).kind);
      }),
    );
  });
});
