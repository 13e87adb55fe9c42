import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { eventually, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

let tocsin: TestTocsin;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
beforeAll(async () => {
  proxy = await startTcpProxy(new URL(inject('elasticsearchUrl')));
  tocsin = await startTestTocsin({ env: { ELASTICSEARCH_URL: proxy.url } });
});
afterAll(async () => {
  await tocsin.destroy();
  await proxy.close();
});

const json = async <T>(res: Promise<Response>) => (await (await res).json()) as T;

describe('Elasticsearch down while alerts arrive', () => {
  it('accepts and correlates everything, answers search with 503, and catches up when it returns', async () => {
    await proxy.cut();
    const alerts = Array.from({ length: 50 }, (_, i) => ({
      // One symptom per CI: these CIs are in no CMDB, so alerts alike in text and time would
      // join one incident (the engine's textTimeAttaches).
      title: `${['Disk full', 'Certificate expired', 'Backup failed', 'Queue stuck', 'Login errors'][i % 5]!} outage probe ${i}`,
      ci: `svc-${i % 5}`,
      labels: { probe: 'es-outage' },
    }));
    const res = await tocsin.request('/api/v1/ingest/generic', {
      method: 'POST',
      body: JSON.stringify(alerts),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(202);

    // Correlation does not need Elasticsearch: every alert is in an incident.
    const pipeline = await eventually(async () => {
      const p = await json<{ pending: number; searchBacklog: number }>(
        tocsin.request('/api/v1/pipeline'),
      );
      return p.pending === 0 ? p : undefined;
    });
    expect(pipeline.searchBacklog).toBeGreaterThan(0);
    const incidents = await json<{ items: { alertCount: number }[] }>(
      tocsin.request('/api/v1/incidents'),
    );
    expect(incidents.items).toHaveLength(5);
    expect(incidents.items.reduce((n, i) => n + i.alertCount, 0)).toBe(50);

    const search = await tocsin.request('/api/v1/search?q=outage');
    expect(search.status).toBe(503);
    expect(search.headers.get('Retry-After')).not.toBeNull();
    const ready = await json<{ ready: boolean; elasticsearch: string }>(tocsin.request('/readyz'));
    expect(ready).toMatchObject({ ready: true, elasticsearch: 'down' });

    // Elasticsearch returns: the outbox drains by itself and every alert becomes searchable.
    await proxy.restore();
    const hits = await eventually(
      async () => {
        const page = await json<{ items: unknown[] }>(
          tocsin.request('/api/v1/search?q=probe&type=alert&limit=100'),
        );
        return page.items.length === 50 ? page.items : undefined;
      },
      { timeoutMs: 45_000, what: 'all 50 alerts to be searchable' },
    );
    expect(hits).toHaveLength(50);
    const after = await json<{ searchBacklog: number }>(tocsin.request('/api/v1/pipeline'));
    expect(after.searchBacklog).toBe(0);
  });
});
