import { describe, expect, it } from 'vitest';
import type { Normalized } from '../../../ingest/normalize.ts';
import { parsePayload } from '../../../ingest/payload.ts';
import { datadog } from '../../../ingest/sources/datadog.ts';
import { fixtureFiles, normalizeBody, normalizeFixture } from '../../support/fixtures.ts';

const DIR = 'datadog';

const cases: Record<string, Normalized> = {
  'custom-payload-monitor-triggered.json': {
    kind: 'alerts',
    alerts: [
      {
        // "[Triggered] " is the transition, not the monitor's name.
        title: 'High tracking',
        // $EVENT_MSG without its %%% markdown fence.
        description: [
          'We get high datadog.event.tracking.intakev2.audit.bytes',
          'Notify: @webhook-inres',
          '',
          '[![Metric Graph](https://p.datadoghq.com/snapshot/view/dd-snapshots-prod/org_352347/2025-10-01/3be6d9318e32a0b89b518edce4c91e4012229fb5.png)](https://app.datadoghq.com/monitors/221164084?from_ts=1759342924000&to_ts=1759344124000&event_id=8306082202796025694&link_source=monitor_notif)',
          '',
          '**datadog.event.tracking.intakev2.audit.bytes** over ***** was **> 100.0** on average during the **last 5m**.',
          '',
          'The monitor was last triggered at Wed Oct 01 2025 18:37:04 UTC.',
          '',
          '- - -',
          '',
          '[[Monitor Status](https://app.datadoghq.com/monitors/221164084?from_ts=1759342924000&to_ts=1759344124000&event_id=8306082202796025694&link_source=monitor_notif)] \u00b7 [[Edit Monitor](https://app.datadoghq.com/monitors/221164084/edit?link_source=monitor_notif)]',
        ].join('\n'),
        // alert_priority P1.
        severity: 'critical',
        status: 'firing',
        ci: null,
        service: null,
        source: 'datadog',
        fingerprint: 'datadog:06ade3da0286048d242ea8e46f521c93',
        labels: {
          monitor_id: '221164084',
          event_type: 'query_alert_monitor',
          org_id: '352347',
          org_name: 'vng',
          priority: 'P1',
        },
        // `date`, epoch ms: the body's "last triggered at Wed Oct 01 2025 18:37:04 UTC".
        startsAt: '2025-10-01T18:37:04.000Z',
        endsAt: null,
      },
    ],
    deliveryId: '8306082202796025694',
  },
  'default-payload-test-notification.json': {
    kind: 'alerts',
    alerts: [
      {
        title: '[TEST] Host Cluster Alert',
        description: [
          '@webhook-relay-test',
          '@webhook-relay-prod-demo',
          '@webhook-relay',
          '',
          'Test notification triggered by kenaz@puppet.com.',
          '',
          '',
          '',
          'The monitor was last triggered at Wed Jun 03 2020 20:43:04 UTC.',
          '',
          '- - -',
          '',
          '[[Monitor Status](https://app.datadoghq.com/monitors#18692904?)] \u00b7 [[Edit Monitor](https://app.datadoghq.com/monitors#18692904/edit)]',
        ].join('\n'),
        // Triggered (from the title) with no priority or alert type.
        severity: 'major',
        status: 'firing',
        ci: null,
        service: null,
        source: 'datadog',
        // The default payload has no monitor id but its links do; a test keeps apart from
        // the monitor's real alert.
        fingerprint: 'datadog:18692904/test',
        labels: {
          monitor_id: '18692904',
          event_type: 'service_check',
          org_id: '415600',
          org_name: 'Puppet',
          test: 'true',
        },
        startsAt: '2020-06-03T20:43:05.000Z',
        endsAt: null,
      },
    ],
    // $ID, beyond 2^53: kept as its exact digits.
    deliveryId: '5485379890863845239',
  },
};

/** The recommended payload template (docs/sources.md, "Datadog") as Datadog fills it in. */
function recommended(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: '7011111111111111111',
    title: '[Triggered on {host:web-1}] CPU high',
    body: '%%%\nCPU above 90% on web-1\n%%%',
    event_type: 'query_alert_monitor',
    date: '1767225600000',
    last_updated: '1767225600000',
    org: { id: '1234', name: 'Acme' },
    transition: 'Triggered',
    aggregate: '',
    alert_id: '98765',
    alert_type: 'error',
    alert_priority: '',
    alert_title: '[Triggered on {host:web-1}] CPU high',
    alert_status: 'system.cpu.user over host:web-1 was > 90 on average during the last 5m.',
    alert_scope: 'host:web-1',
    alert_metric: 'system.cpu.user',
    hostname: 'web-1',
    tags: 'env:prod,service:checkout,monitor',
    link: 'https://app.datadoghq.com/event/event?id=7011111111111111111',
    ...overrides,
  };
}

const one = (result: Normalized) => (result.kind === 'alerts' ? result.alerts[0] : undefined);

describe('datadog: fixtures', () => {
  it('has a case for every fixture', () => {
    expect(Object.keys(cases).sort()).toEqual(fixtureFiles(DIR));
  });
  it.each(Object.entries(cases))('%s', (file, expected) => {
    expect(normalizeFixture(datadog, DIR, file)).toEqual(expected);
  });
});

describe('datadog', () => {
  it('reads the recommended template: host, service, tags, scope and the monitor', () => {
    expect(normalizeBody(datadog, recommended())).toEqual({
      kind: 'alerts',
      alerts: [
        {
          title: 'CPU high',
          description: 'CPU above 90% on web-1',
          severity: 'major',
          status: 'firing',
          ci: 'web-1',
          service: 'checkout',
          source: 'datadog',
          fingerprint: 'datadog:98765/web-1',
          labels: {
            env: 'prod',
            service: 'checkout',
            monitor: '',
            host: 'web-1',
            monitor_id: '98765',
            event_type: 'query_alert_monitor',
            org_id: '1234',
            org_name: 'Acme',
            metric: 'system.cpu.user',
            scope: 'host:web-1',
          },
          startsAt: '2026-01-01T00:00:00.000Z',
          endsAt: null,
        },
      ],
      deliveryId: '7011111111111111111',
    });
  });

  it('resolves on Recovered with the fingerprint of the trigger', () => {
    const triggered = one(normalizeBody(datadog, recommended()));
    const recovered = one(
      normalizeBody(
        datadog,
        recommended({
          id: '7022222222222222222',
          title: '[Recovered on {host:web-1}] CPU high',
          alert_title: '[Recovered on {host:web-1}] CPU high',
          transition: 'Recovered',
          alert_type: 'success',
          date: '1767226500000',
        }),
      ),
    );
    expect(recovered).toMatchObject({
      status: 'resolved',
      title: 'CPU high',
      endsAt: '2026-01-01T00:15:00.000Z',
    });
    expect(recovered?.fingerprint).toBe(triggered?.fingerprint);
  });

  it('keys by $AGGREG_KEY when the template sends it', () => {
    const body = recommended({ aggregate: '9bd4ac313a4d1e8fae2482df7b77628' });
    expect(one(normalizeBody(datadog, body))?.fingerprint).toBe(
      'datadog:9bd4ac313a4d1e8fae2482df7b77628',
    );
    expect(
      one(normalizeBody(datadog, { ...body, aggregate: undefined, aggreg_key: 'k1' })),
    ).toMatchObject({ fingerprint: 'datadog:k1' });
  });

  it('derives the same fingerprint for trigger and recovery when nothing identifies the monitor', () => {
    const base = { title: '[Triggered] Disk full', body: 'no links here', event_type: 'x' };
    const fired = one(normalizeBody(datadog, base));
    const recovered = one(normalizeBody(datadog, { ...base, title: '[Recovered] Disk full' }));
    expect(fired).toMatchObject({ status: 'firing', title: 'Disk full' });
    expect(recovered).toMatchObject({ status: 'resolved', title: 'Disk full' });
    expect(recovered?.fingerprint).toBe(fired?.fingerprint);
  });

  it.each([
    ['Triggered', 'firing'],
    ['Re-Triggered', 'firing'],
    ['Warn', 'firing'],
    ['Re-Warn', 'firing'],
    ['No Data', 'firing'],
    ['Renotify', 'firing'],
    ['Recovered', 'resolved'],
    ['Resolved', 'resolved'],
  ])('maps transition %s to %s', (transition, status) => {
    expect(one(normalizeBody(datadog, recommended({ transition })))?.status).toBe(status);
  });

  it.each([
    [{ alert_priority: 'P1' }, 'critical'],
    [{ alert_priority: 'P2' }, 'major'],
    [{ alert_priority: 'P3' }, 'minor'],
    [{ alert_priority: 'P4' }, 'warning'],
    [{ alert_priority: 'P5' }, 'info'],
    [{ priority: 'P2' }, 'major'],
    [{ title: '[P3] [Triggered] CPU high' }, 'minor'],
    // $PRIORITY's event priorities (normal/low) are not monitor priorities.
    [{ priority: 'normal' }, 'major'],
    [{ alert_type: 'warning' }, 'warning'],
    [{ alert_type: 'info' }, 'info'],
    [{ alert_type: '', transition: 'Triggered' }, 'major'],
    [{ alert_priority: 'P1', transition: 'Warn' }, 'warning'],
  ])('maps %j to severity %s', (overrides, severity) => {
    expect(one(normalizeBody(datadog, recommended(overrides)))?.severity).toBe(severity);
  });

  it('treats variables Datadog left unfilled ($HOSTNAME) as absent', () => {
    const result = one(
      normalizeBody(datadog, {
        title: 'Queue backlog',
        hostname: '$HOSTNAME',
        transition: '$ALERT_TRANSITION',
        id: '$ID',
      }),
    );
    expect(result).toMatchObject({ ci: null, status: 'firing', title: 'Queue backlog' });
    expect(normalizeBody(datadog, { title: 'Queue backlog', id: '$ID' })).not.toHaveProperty(
      'deliveryId',
    );
  });

  it('reads numeric ids and a list of tags', () => {
    expect(
      normalizeBody(datadog, {
        id: 42,
        title: 'x',
        alert_id: 7,
        tags: ['team:core', 'env:dev'],
      }),
    ).toMatchObject({
      deliveryId: '42',
      alerts: [{ fingerprint: 'datadog:7', labels: { team: 'core', env: 'dev', monitor_id: '7' } }],
    });
  });

  it('keeps an unquoted $ID beyond 2^53 exact', () => {
    const body = parsePayload('{"id": 5485379890863845239, "title": "x"}');
    expect(normalizeBody(datadog, body)).toMatchObject({ deliveryId: '5485379890863845239' });
  });

  it('uses $ALERT_TITLE when the template has no title', () => {
    expect(
      one(normalizeBody(datadog, { alert_title: '[Warn on {host:db-2}] Replication lag' })),
    ).toMatchObject({ title: 'Replication lag', ci: 'db-2', severity: 'warning' });
  });

  it.each([
    [{}, ['/title']],
    [{ title: '$EVENT_TITLE' }, ['/title']],
    [{ title: 5 }, ['/title']],
    [{ title: 'x', org: 'Acme' }, ['/org']],
    [{ title: 'x', tags: 5 }, ['/tags']],
    [{ title: 'x', id: true }, ['/id']],
  ])('points at the bad fields of %j', (body, pointers) => {
    const result = normalizeBody(datadog, body);
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.errors.map((e) => e.pointer)).toEqual(pointers);
  });

  it.each(
    [null, 42, 'x', false, [], {}, { title: null }, { title: '[Triggered]' }, { org: [] }].map(
      (body) => [body],
    ),
  )('never throws on %j', (body) => {
    expect(['invalid', 'alerts']).toContain(normalizeBody(datadog, body).kind);
  });
});
