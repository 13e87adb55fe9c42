import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../correlator/alert.ts';
import { createPool, withTransaction, type Pool } from '../../services/store/db.ts';
import { acceptDeliveries } from '../../services/store/deliveries.ts';
import {
  OLDEST_PENDING,
  oldestPendingInbox,
  PENDING,
  PENDING_PLAN,
  pendingInbox,
} from '../../services/store/inbox.ts';
import { createTestDatabase, planNodes } from '../support/db.ts';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, 2);
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

const alert = (n: number): Alert => ({
  title: `Disk full on host-${n}`,
  description: null,
  severity: 'major',
  status: 'firing',
  ci: `host-${n}`,
  service: null,
  source: 'generic',
  fingerprint: `f-${n}`,
  labels: {},
  startsAt: new Date().toISOString(),
  endsAt: null,
});

/** Accepts `n` alerts, `perDelivery` to a delivery, as ingest's group commit stores them. */
async function accept(n: number, perDelivery: number): Promise<void> {
  for (let i = 0; i < n; i += perDelivery)
    await acceptDeliveries(pool, [
      {
        source: 'generic',
        tokenId: null,
        idempotencyKey: null,
        contentType: 'application/json',
        body: '[]',
        alerts: Array.from({ length: Math.min(perDelivery, n - i) }, (_, k) => alert(i + k)),
        notice: null,
      },
    ]);
}

describe('the oldest pending inbox row (what the inbox sweep asks)', () => {
  it('is none for an empty inbox, then the first accepted, with how long it has waited', async () => {
    expect(await oldestPendingInbox(pool)).toBeNull();
    await accept(3, 3);
    const { rows } = await pool.query<{ id: string }>(
      'SELECT id::text AS id FROM alert_inbox ORDER BY id',
    );
    const oldest = await oldestPendingInbox(pool);
    expect(oldest?.id).toBe(rows[0]!.id);
    expect(oldest!.waitedMs).toBeGreaterThanOrEqual(0);
    expect(oldest!.waitedMs).toBeLessThan(60_000);

    await pool.query(
      "UPDATE alert_inbox SET received_at = received_at - interval '10 minutes' WHERE id = $1",
      [rows[0]!.id],
    );
    expect((await oldestPendingInbox(pool))!.waitedMs).toBeGreaterThanOrEqual(600_000);

    await pool.query('UPDATE alert_inbox SET processed_at = now() WHERE id = $1', [rows[0]!.id]);
    expect((await oldestPendingInbox(pool))?.id).toBe(rows[1]!.id);
  });

  it('reads one row of the pending index however long the backlog', async () => {
    await accept(5_000, 100);
    await pool.query('ANALYZE alert_inbox');
    const scans = (await planNodes(pool, OLDEST_PENDING)).filter((n) => n['Node Type'] !== 'Limit');
    // An index scan stopped at its first row, not a scan and sort of the 5,000 pending.
    expect(scans.map((n) => n['Node Type'])).toEqual(['Index Scan']);
    expect(scans[0]!['Actual Rows']).toBe(1);
  });
});

describe('the pending count (GET /api/v1/pipeline)', () => {
  it('counts through the pending index even when the statistics say most rows are pending', async () => {
    await pool.query('UPDATE alert_inbox SET processed_at = now() WHERE processed_at IS NULL');
    await accept(6_000, 500);
    // Analyzed in a burst: a third correlated (their new row versions at the table's end), the
    // rest pending. A sequential scan of the whole inbox is then the count's plan on merit.
    await pool.query(
      'UPDATE alert_inbox SET processed_at = now() WHERE id IN (SELECT id FROM alert_inbox WHERE processed_at IS NULL ORDER BY id LIMIT 2000)',
    );
    await pool.query('ANALYZE alert_inbox');
    // Correlated since the statistics were taken: 100 left, the oldest of them backdated.
    await pool.query(
      `UPDATE alert_inbox SET processed_at = now()
       WHERE id NOT IN (SELECT id FROM alert_inbox WHERE processed_at IS NULL ORDER BY id DESC LIMIT 100)`,
    );
    const { rows: left } = await pool.query<{ id: string }>(
      "UPDATE alert_inbox SET received_at = '2026-01-01T00:00:00Z' WHERE id = (SELECT min(id) FROM alert_inbox WHERE processed_at IS NULL) RETURNING id",
    );
    expect(left).toHaveLength(1);
    expect(await pendingInbox(pool)).toEqual({
      pending: 100,
      exact: true,
      oldest: '2026-01-01T00:00:00.000Z',
    });

    const plan = await withTransaction(pool, async (tx) => {
      await tx.query(PENDING_PLAN);
      return planNodes(tx, PENDING, [10_000]);
    });
    // Every read of the inbox goes through an index: the pending one (the count and the first
    // pending row), the primary key (the last id).
    const reads = plan.filter((n) => n['Relation Name'] === 'alert_inbox');
    expect(new Set(reads.map((n) => n['Node Type']))).toEqual(
      new Set(['Index Scan', 'Index Only Scan']),
    );
    expect(new Set(reads.map((n) => n['Index Name']))).toEqual(
      new Set(['alert_inbox_pending', 'alert_inbox_pkey']),
    );
    const counted = reads.find((n) => (n['Actual Rows'] ?? 0) > 1);
    expect(counted).toMatchObject({ 'Index Name': 'alert_inbox_pending', 'Actual Rows': 100 });
  });

  it('estimates from the inbox ids beyond the most it counts', async () => {
    // The 100 left above are the newest ids of the inbox: pending is that range.
    expect(await pendingInbox(pool, 40)).toEqual({
      pending: 100,
      exact: false,
      oldest: '2026-01-01T00:00:00.000Z',
    });
    // Ids a rolled-back write skipped are counted too: an estimate from above.
    await pool.query(
      "SELECT setval(pg_get_serial_sequence('alert_inbox', 'id'), (SELECT max(id) + 50 FROM alert_inbox))",
    );
    await accept(10, 10);
    expect(await pendingInbox(pool, 40)).toMatchObject({ pending: 160, exact: false });
    expect(await pendingInbox(pool)).toMatchObject({ pending: 110, exact: true });
  });
});
