import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

let ingest: TestTocsin;
let correlator: TestTocsin | undefined;
beforeAll(async () => {
  ingest = await startTestTocsin({ roles: ['ingest', 'services'] });
});
afterAll(async () => {
  await correlator?.destroy();
  await ingest.destroy();
});

const pending = async (t: TestTocsin) =>
  ((await (await t.request('/api/v1/pipeline')).json()) as { pending: number }).pending;

describe('accepted alerts whose queue job was lost', () => {
  it('are re-enqueued by the sweep and correlated', async () => {
    const res = await ingest.request('/api/v1/ingest/generic', {
      method: 'POST',
      body: JSON.stringify([
        { title: 'Lost job 1', ci: 'lb-1' },
        { title: 'Lost job 2', ci: 'lb-1' },
      ]),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(202);
    expect(await pending(ingest)).toBe(2);

    // Redis loses every job (a flush, a failover without persistence).
    const redis = new Redis(ingest.config.redisUrl);
    const keys = await redis.keys(`${ingest.config.queuePrefix}:*`);
    expect(keys.length).toBeGreaterThan(0);
    await redis.del(...keys);
    redis.disconnect();

    correlator = await startTestTocsin({ roles: ['correlator'], sharing: ingest });
    await eventually(async () => ((await pending(ingest)) === 0 ? true : undefined), {
      what: 'the sweep to re-enqueue and correlate the inbox',
    });
    const incidents = (await (await ingest.request('/api/v1/incidents')).json()) as {
      items: { alertCount: number }[];
    };
    expect(incidents.items).toEqual([expect.objectContaining({ alertCount: 2 })]);
  });
});
