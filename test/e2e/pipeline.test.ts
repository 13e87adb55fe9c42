import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, eventually, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

type Incident = {
  id: string;
  number: string;
  title: string;
  state: string;
  severity: string;
  priority: number;
  alertCount: number;
  cis: string[];
  resolvedAt: string | null;
};
type Alert = {
  id: string;
  fingerprint: string;
  incidentId: string | null;
  count: number;
  status: string;
  ci: string;
};

let tocsin: TestTocsin;
let base: string;
beforeAll(async () => {
  // No grace and no lateness: an incident resolves as soon as its last alert does.
  tocsin = await startTestTocsin({
    env: { TOCSIN_CORRELATION: '{"resolveGraceMs":0,"allowedLatenessMs":0}' },
  });
  base = await tocsin.listen();
});
afterAll(() => tocsin.destroy());

async function api<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(base + path, {
    ...init,
    headers: {
      Authorization: `Bearer ${ADMIN_TOKEN}`,
      'Content-Type': 'application/json',
      ...init.headers,
    },
  });
  return { status: res.status, body: (await res.json()) as T };
}

const settled = () =>
  eventually(
    async () =>
      (await api<{ pending: number }>('/api/v1/pipeline')).body.pending === 0 ? true : undefined,
    {
      what: 'pending to reach 0',
    },
  );

describe('one alert from webhook to searchable incident, over a real socket', () => {
  it('correlates, deduplicates, serves and finds alerts and incidents', async () => {
    const t0 = new Date(Date.now() - 60_000).toISOString();
    const posted = await api<{ accepted: number }>('/api/v1/ingest/generic', {
      method: 'POST',
      body: JSON.stringify([
        {
          title: 'Replication lag above 30s',
          ci: 'db-ledger-1',
          severity: 'major',
          startsAt: t0,
          labels: { cluster: 'ledger' },
        },
        {
          title: 'Connection pool exhausted',
          ci: 'db-ledger-1',
          severity: 'critical',
          service: 'billing',
        },
        {
          title: 'Replication lag above 30s',
          ci: 'db-ledger-1',
          severity: 'major',
          startsAt: t0,
          labels: { cluster: 'ledger' },
        },
        { title: 'Certificate expires in 7 days', ci: 'edge-proxy-3', severity: 'warning' },
      ]),
    });
    expect(posted).toEqual({ status: 202, body: { accepted: 4 } });
    await settled();

    const incidents = (
      await api<{ items: Incident[]; nextCursor: string | null }>('/api/v1/incidents')
    ).body;
    expect(incidents.nextCursor).toBeNull();
    expect(incidents.items).toHaveLength(2);
    const ledger = incidents.items.find((i) => i.cis.includes('db-ledger-1'))!;
    expect(ledger).toMatchObject({
      state: 'new',
      severity: 'critical',
      // A critical alert is urgency 1; the impact is the default 2: priority 2 by the matrix.
      impact: 2,
      urgency: 1,
      priority: 2,
      alertCount: 2,
      resolvedAt: null,
    });
    expect(ledger.number).toMatch(/^INC\d{7}$/);

    const one = await api<Incident>(`/api/v1/incidents/${ledger.id}`);
    expect(one.status).toBe(200);
    expect(one.body.number).toBe(ledger.number);

    const alerts = (await api<{ items: Alert[] }>(`/api/v1/alerts?incidentId=${ledger.id}`)).body
      .items;
    expect(alerts).toHaveLength(2);
    const lag = alerts.find((a) => a.count === 2);
    expect(lag, 'the repeated delivery is one alert with count 2').toBeDefined();
    const byFingerprint = (
      await api<{ items: Alert[] }>(`/api/v1/alerts?fingerprint=${lag!.fingerprint}`)
    ).body.items;
    expect(byFingerprint.map((a) => a.id)).toEqual([lag!.id]);

    const found = await eventually(
      async () => {
        const res = await api<{ items: { type: string; id: string; record: Incident }[] }>(
          '/api/v1/search?q=' + encodeURIComponent('replication lag') + '&type=incident,alert',
        );
        return res.body.items.some((h) => h.type === 'alert' && h.id === lag!.id)
          ? res.body.items
          : undefined;
      },
      { what: 'the alert to be searchable' },
    );
    expect(found.every((h) => ['incident', 'alert'].includes(h.type))).toBe(true);
    const byNumber = await eventually(
      async () => {
        const res = await api<{ items: { type: string; id: string }[] }>(
          `/api/v1/search?q=${ledger.number}`,
        );
        return res.body.items.find((h) => h.type === 'incident' && h.id === ledger.id);
      },
      { what: 'the incident to be searchable by number' },
    );
    expect(byNumber).toBeDefined();
  });

  it('resolves the incident when its alerts resolve (no grace configured)', async () => {
    await api('/api/v1/ingest/generic', {
      method: 'POST',
      body: JSON.stringify([{ title: 'Disk 95% full', ci: 'files-1', severity: 'minor' }]),
    });
    await settled();
    const open = (await api<{ items: Alert[] }>('/api/v1/alerts?status=firing')).body.items.find(
      (a) => a.ci === 'files-1',
    )!;
    await api('/api/v1/ingest/generic', {
      method: 'POST',
      body: JSON.stringify([
        { title: 'Disk 95% full', ci: 'files-1', severity: 'minor', status: 'resolved' },
      ]),
    });
    await settled();
    const resolved = (await api<Incident>(`/api/v1/incidents/${open.incidentId}`)).body;
    expect(resolved.state).toBe('resolved');
    expect(resolved.resolvedAt).not.toBeNull();
    const stillOpen = (
      await api<{ items: Incident[] }>('/api/v1/incidents?state=new,in_progress,on_hold')
    ).body.items;
    expect(stillOpen.map((i) => i.id)).not.toContain(open.incidentId);
  });

  it('pages lists with a cursor and rejects a bad one', async () => {
    const first = (
      await api<{ items: Incident[]; nextCursor: string | null }>('/api/v1/incidents?limit=1')
    ).body;
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).not.toBeNull();
    const second = (
      await api<{ items: Incident[] }>(`/api/v1/incidents?limit=1&cursor=${first.nextCursor}`)
    ).body;
    expect(second.items).toHaveLength(1);
    expect(second.items[0]!.id).not.toBe(first.items[0]!.id);
    expect((await api('/api/v1/incidents?cursor=garbage')).status).toBe(400);
    expect((await api('/api/v1/incidents?limit=1001')).status).toBe(400);
    expect((await api('/api/v1/incidents/999999')).status).toBe(404);
  });

  it('serves health, readiness, metrics and the console', async () => {
    expect((await fetch(base + '/healthz')).status).toBe(200);
    const ready = await fetch(base + '/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      ready: true,
      postgres: 'up',
      redis: 'up',
      elasticsearch: 'up',
    });
    const metrics = await (await fetch(base + '/metrics')).text();
    expect(metrics).toMatch(/tocsin_correlation_latency_seconds_count [1-9]/);
    expect(metrics).toMatch(/tocsin_queue_depth\{queue="correlate"\} \d+/);
    // What the correlator holds: the alerts it correlated are in its engine.
    expect(metrics).toMatch(/tocsin_correlator_state\{kind="alerts"\} [1-9]/);
    expect(metrics).toMatch(/tocsin_correlator_state\{kind="incidents"\} [1-9]/);
    expect(metrics).toMatch(/^tocsin_nodejs_heap_live_bytes \d+$/m);
    const page = await fetch(base + '/');
    expect(page.headers.get('Content-Type')).toMatch(/text\/html/);
    expect(page.headers.get('Content-Security-Policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('/console/console.js');
    const script = await fetch(base + '/console/console.js');
    expect(script.headers.get('Content-Type')).toMatch(/javascript/);
  });
});
