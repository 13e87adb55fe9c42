import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Jobs } from '../../correlator/jobs.ts';
import { correlateNotifier } from '../../runtime/tocsin.ts';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  maxRetriesPerRequest: 1,
});
const prefix = `test-notifier-${randomBytes(4).toString('hex')}`;
const jobs = new Jobs(redis, prefix);
afterAll(async () => {
  await jobs.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe('correlate notifier', () => {
  it('puts every notified delivery in a job, in fewer jobs than notifications', async () => {
    const wake = correlateNotifier(jobs, pino({ level: 'silent' }));
    const notified: string[] = [];
    // Notifications at every point of a send: at once, between turns, and after pauses that let
    // a send finish (where a wake-up used to be lost between its last look and its end).
    for (let i = 0; i < 300; i++) {
      const ids = [`${i}a`, `${i}b`];
      wake.notify(ids);
      notified.push(...ids);
      if (i % 3 === 0) await Promise.resolve();
      if (i % 7 === 0) await new Promise((r) => setImmediate(r));
      if (i % 50 === 0) await wake.flush();
    }
    await wake.flush();
    const queued = await jobs.queueOf('alert.correlate').getJobs(['waiting', 'prioritized']);
    const ids = queued.flatMap((j) => (j.data as { deliveryIds: string[] }).deliveryIds);
    expect(ids.sort()).toEqual(notified.sort());
    expect(queued.length).toBeLessThan(300);
  });
});
