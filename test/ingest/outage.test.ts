import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, databaseUrl } from '../support/db.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';
import { eventually, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const clean of cleanups.reverse()) await clean();
});

const post = (tocsin: TestTocsin, body: unknown) =>
  tocsin.request('/api/v1/ingest/generic', {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });

const pipeline = async (tocsin: TestTocsin) =>
  (await (await tocsin.request('/api/v1/pipeline')).json()) as { pending: number };

describe('PostgreSQL unavailable', () => {
  it('answers 503 with Retry-After, and accepts again once it is back', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const proxy = await startTcpProxy(new URL(databaseUrl(db.name)));
    cleanups.push(() => proxy.close());
    const tocsin = await startTestTocsin({
      roles: ['ingest', 'services'],
      env: { DATABASE_URL: `${proxy.url.replace('http://', 'postgres://postgres@')}/${db.name}` },
    });
    cleanups.push(() => tocsin.destroy());

    expect((await post(tocsin, { title: 'before the outage' })).status).toBe(202);
    await proxy.cut();
    const during = await post(tocsin, { title: 'during the outage' });
    expect(during.status).toBe(503);
    expect(during.headers.get('Content-Type')).toBe('application/problem+json');
    expect(Number(during.headers.get('Retry-After'))).toBeGreaterThan(0);
    await proxy.restore();
    const after = await eventually(async () => {
      const res = await post(tocsin, { title: 'after the outage' });
      return res.status === 202 ? res : undefined;
    });
    expect(await after.json()).toEqual({ accepted: 1 });
    // What was accepted is there; what was refused was never half-stored.
    expect((await pipeline(tocsin)).pending).toBe(2);
  });
});

describe('Redis unavailable', () => {
  it('still accepts alerts, and correlates them once Redis is back', async () => {
    const proxy = await startTcpProxy(new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'));
    cleanups.push(() => proxy.close());
    const tocsin = await startTestTocsin({
      env: { REDIS_URL: proxy.url.replace('http:', 'redis:') },
    });
    cleanups.push(() => tocsin.destroy());

    await proxy.cut();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        post(tocsin, [
          { title: `Disk full ${i}`, ci: `host-${i % 3}` },
          { title: `Inode exhaustion ${i}`, ci: `host-${i % 3}` },
        ]),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
    expect((await pipeline(tocsin)).pending).toBe(20);

    await proxy.restore();
    await eventually(async () => ((await pipeline(tocsin)).pending === 0 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: 'the alerts accepted during the outage',
    });
    const alerts = (await (await tocsin.request('/api/v1/alerts?limit=100')).json()) as {
      items: { title: string; incidentId: string | null }[];
    };
    expect(alerts.items).toHaveLength(20);
    expect(alerts.items.every((a) => a.incidentId !== null)).toBe(true);
  });
});
