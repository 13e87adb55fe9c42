import { describe, expect, it } from 'vitest';
import { acceptDeliveries } from '../../services/store/deliveries.ts';
import { pruneBefore } from '../../services/store/retention.ts';
import { useTestDatabase } from '../support/db.ts';

const db = useTestDatabase();

const delivery = (n: number) => ({
  source: 'generic',
  tokenId: null,
  idempotencyKey: null,
  contentType: 'application/json',
  body: `{"title":"d${n}"}`,
  alerts: [
    {
      title: `d${n}`,
      description: null,
      severity: 'warning' as const,
      status: 'firing' as const,
      ci: null,
      service: null,
      source: 'generic',
      fingerprint: `d${n}`,
      labels: {},
      startsAt: '2026-01-01T00:00:00.000Z',
      endsAt: null,
    },
  ],
  notice: null,
});

describe('retention of raw deliveries', () => {
  it('removes, range by range, the old ones nothing points at, and stops at the recent ones', async () => {
    const stored = await acceptDeliveries(
      db.pool,
      Array.from({ length: 12 }, (_, n) => delivery(n)),
    );
    const ids = stored.map((s) => s.deliveryId);
    // The first ten are forty days old; their inbox rows were correlated and pruned, except
    // delivery 4's (still waiting); an alert still points at delivery 7.
    await db.pool.query(
      `UPDATE ingest_deliveries SET received_at = now() - interval '40 days' WHERE id = ANY($1)`,
      [ids.slice(0, 10)],
    );
    await db.pool.query(
      'DELETE FROM alert_inbox WHERE delivery_id = ANY($1) AND delivery_id <> $2',
      [ids.slice(0, 10), ids[4]],
    );
    await db.pool.query(
      `INSERT INTO alerts (fingerprint, title, severity, status, source, starts_at,
         first_received_at, last_received_at, last_delivery_id)
       VALUES ('still-firing', 'still firing', 'warning', 'firing', 'generic',
         now() - interval '40 days', now() - interval '40 days', now() - interval '40 days', $1)`,
      [ids[7]],
    );

    const pruned = await pruneBefore(db.pool, new Date(Date.now() - 30 * 86_400_000), 3);
    expect(pruned.deliveries).toBe(8);
    const { rows } = await db.pool.query<{ id: string }>(
      'SELECT id FROM ingest_deliveries ORDER BY id',
    );
    expect(rows.map((r) => r.id)).toEqual([ids[4], ids[7], ids[10], ids[11]]);
  });
});
