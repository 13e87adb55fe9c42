import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../services/store/db.ts';
import { eventually, startTestTocsin, type TestTocsin } from '../support/tocsin.ts';

let tocsin: TestTocsin;
let pool: Pool;
beforeAll(async () => {
  tocsin = await startTestTocsin({
    // The scheduler enqueues the retention job every second here; daily by default.
    env: { TOCSIN_ALERT_RETENTION_DAYS: '30', TOCSIN_RETENTION_CRON: '* * * * * *' },
  });
  pool = createPool(tocsin.config.databaseUrl, 2);
});
afterAll(async () => {
  await pool.end();
  await tocsin.destroy();
});

const post = async (alert: Record<string, unknown>) => {
  const res = await tocsin.request('/api/v1/ingest/generic', {
    method: 'POST',
    body: JSON.stringify(alert),
    headers: { 'Content-Type': 'application/json' },
  });
  expect(res.status).toBe(202);
};

type Alert = { id: string; title: string; status: string };
const alerts = async () =>
  ((await (await tocsin.request('/api/v1/alerts?limit=100')).json()) as { items: Alert[] }).items;
const searchable = async (q: string) =>
  (
    (await (await tocsin.request(`/api/v1/search?type=alert&q=${q}`)).json()) as {
      items: unknown[];
    }
  ).items.length;

describe('the retention job', () => {
  it('removes resolved alerts older than the retention, their inbox rows and raw deliveries, and nothing else', async () => {
    // One delivery each: two deliveries of one fingerprint may be correlated in either order
    // until the correlator orders them by event time.
    await post({
      title: 'Old and resolved',
      ci: 'db-1',
      fingerprint: 'old-resolved',
      status: 'resolved',
    });
    await post({ title: 'Old but firing', ci: 'db-1', fingerprint: 'old-firing' });
    await post({
      title: 'Recent and resolved',
      ci: 'db-2',
      fingerprint: 'recent',
      status: 'resolved',
    });
    await eventually(
      async () => {
        const now = await alerts();
        const resolved = now.filter((a) => a.status === 'resolved').length;
        return now.length === 3 && resolved === 2 && (await searchable('resolved')) === 2
          ? true
          : undefined;
      },
      { what: 'the alerts to be correlated and searchable' },
    );
    const oldDeliveries = await pool.query<{ id: string }>(
      `SELECT d.id FROM ingest_deliveries d JOIN alert_inbox i ON i.delivery_id = d.id
       WHERE i.alert->>'fingerprint' IN ('old-resolved', 'old-firing')`,
    );
    expect(oldDeliveries.rows).toHaveLength(2);

    // Forty days pass for the two old ones.
    await pool.query(
      `UPDATE alerts SET last_received_at = now() - interval '40 days',
         ends_at = ends_at - interval '40 days'
       WHERE fingerprint IN ('old-resolved', 'old-firing')`,
    );
    await pool.query(
      `UPDATE alert_inbox SET received_at = now() - interval '40 days',
         processed_at = now() - interval '40 days'
       WHERE alert->>'fingerprint' IN ('old-resolved', 'old-firing')`,
    );
    await pool.query(
      `UPDATE ingest_deliveries SET received_at = now() - interval '40 days' WHERE id = ANY($1)`,
      [oldDeliveries.rows.map((r) => r.id)],
    );

    const left = await eventually(
      async () => {
        const now = await alerts();
        return now.length === 2 ? now : undefined;
      },
      { what: 'the old resolved alert to be removed' },
    );
    expect(left.map((a) => a.title).sort()).toEqual(['Old but firing', 'Recent and resolved']);
    await eventually(
      async () => ((await searchable('%22old+and+resolved%22')) === 0 ? true : undefined),
      {
        what: 'the removed alert to leave the search index',
      },
    );
    // The firing alert's last delivery is still pointed at; the two others are gone.
    const kept = await pool.query<{ id: string }>(
      'SELECT id FROM ingest_deliveries WHERE id = ANY($1)',
      [oldDeliveries.rows.map((r) => r.id)],
    );
    expect(kept.rows).toHaveLength(1);
    const firing = await pool.query<{ last_delivery_id: string }>(
      `SELECT last_delivery_id FROM alerts WHERE fingerprint = 'old-firing'`,
    );
    expect(kept.rows[0]!.id).toBe(firing.rows[0]!.last_delivery_id);
    const inbox = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM alert_inbox WHERE alert->>'fingerprint' IN ('old-resolved', 'old-firing')`,
    );
    expect(inbox.rows[0]!.n).toBe(0);
  });
});
