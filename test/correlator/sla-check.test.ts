import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Jobs } from '../../correlator/jobs.ts';
import { createPool, type Pool } from '../../services/store/db.ts';
import { eventually, jsonRequest, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

let tocsin: TestTocsin;
let pool: Pool;
let redis: Redis;
let jobs: Jobs;
beforeAll(async () => {
  // The SLA check runs only when this test enqueues it, never on its 30-s schedule.
  tocsin = await startTestTocsin({ env: { TOCSIN_SLA_CRON: '0 0 1 1 *' } });
  pool = createPool(tocsin.config.databaseUrl, 1);
  redis = new Redis(tocsin.config.redisUrl, { maxRetriesPerRequest: 1 });
  jobs = new Jobs(redis, tocsin.config.queuePrefix);
});
afterAll(async () => {
  await jobs.close();
  redis.disconnect();
  await pool.end();
  await tocsin.destroy();
});

const timersOf = async (incidentId: string) =>
  (
    await pool.query<{ kind: string; running: boolean }>(
      'SELECT kind, stopped_at IS NULL AS running FROM sla_timers WHERE incident_id = $1 ORDER BY kind',
      [incidentId],
    )
  ).rows;

describe('the sla.check job', () => {
  it('starts the SLA timers of an incident the correlator opened', async () => {
    const sla = await tocsin.request(
      '/api/v1/slas',
      jsonRequest({ name: 'Everything', responseMinutes: 15, resolutionMinutes: 240 }),
    );
    expect(sla.status).toBe(201);
    const posted = await tocsin.request(
      '/api/v1/ingest/generic',
      jsonRequest({ title: 'Disk full on db-7', ci: 'db-7', fingerprint: 'sla-check-1' }),
    );
    expect(posted.status).toBe(202);
    const incidentId = await eventually(
      async () => {
        const res = await tocsin.request('/api/v1/alerts?fingerprint=sla-check-1');
        const { items } = (await res.json()) as { items: { incidentId: string | null }[] };
        return items[0]?.incidentId ?? undefined;
      },
      { what: 'the alert to be correlated' },
    );
    // The correlator writes incidents without timers: starting them is the check's work.
    expect(await timersOf(incidentId)).toEqual([]);

    await jobs.addCoalesced('sla.check');
    await eventually(async () => ((await timersOf(incidentId)).length === 2 ? true : undefined), {
      what: 'the check to start the timers',
    });
    expect(await timersOf(incidentId)).toEqual([
      { kind: 'resolution', running: true },
      { kind: 'response', running: true },
    ]);
    // The job's time is on /metrics, by name and outcome.
    const metrics = await (await tocsin.request('/metrics')).text();
    expect(metrics).toMatch(
      /^tocsin_job_duration_seconds_count\{job="sla\.check",outcome="completed"\} [1-9]\d*$/m,
    );
    expect(metrics).toMatch(
      /^tocsin_job_duration_seconds_count\{job="alert\.correlate",outcome="completed"\} [1-9]\d*$/m,
    );
  });
});
