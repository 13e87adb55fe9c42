import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAlerts } from '../../services/store/alerts.ts';
import { createPool, type Pool } from '../../services/store/db.ts';
import { createTestDatabase } from '../support/db.ts';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, 2);
  // 3,000 alerts over 3 incidents, every third one resolved, with 5 episodes of one fingerprint
  // spread through them; never analyzed, as after a burst.
  await pool.query(`
    INSERT INTO incidents (title, severity, priority, opened_at, last_alert_at, created_by)
    SELECT 'storm ' || g, 'major', 2, now(), now(), 'correlator' FROM generate_series(1, 3) g`);
  await pool.query(`
    INSERT INTO alerts (fingerprint, episode, incident_id, ci, title, severity, status, source,
      labels, starts_at, first_received_at, last_received_at)
    SELECT CASE WHEN g % 600 = 0 THEN 'flappy' ELSE 'fp-' || g END,
      CASE WHEN g % 600 = 0 THEN g / 600 ELSE 1 END,
      (SELECT min(id) FROM incidents) + g % 3, 'ci-' || g % 50, 'alert ' || g, 'major',
      CASE WHEN g % 3 = 0 THEN 'resolved' ELSE 'firing' END, 'generic', '{}', now(), now(), now()
    FROM generate_series(1, 3000) g`);
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

/** Every page of a listing, followed by its cursor. */
async function all(filter: Parameters<typeof listAlerts>[1], limit: number) {
  const ids: number[] = [];
  let cursor: string | null = null;
  do {
    const page = await listAlerts(pool, filter, limit, cursor);
    ids.push(...page.items.map((a) => Number(a.id)));
    cursor = page.nextCursor;
  } while (cursor !== null);
  return ids;
}

const newestFirst = (ids: number[]) => [...ids].sort((a, b) => b - a);

describe('the alert list', () => {
  it('pages one fingerprint’s episodes newest first', async () => {
    const ids = await all({ fingerprint: 'flappy' }, 2);
    expect(ids).toHaveLength(5);
    expect(ids).toEqual(newestFirst(ids));
    expect(await all({ fingerprint: 'never-sent' }, 50)).toEqual([]);
  });

  it('combines the filters given, and pages them to the end', async () => {
    const { rows } = await pool.query<{ id: string }>(
      `SELECT id FROM alerts WHERE incident_id = (SELECT min(id) FROM incidents) + 1
         AND status = 'firing' ORDER BY id DESC`,
    );
    const incidentId = String(
      (await pool.query<{ id: string }>('SELECT min(id) + 1 AS id FROM incidents')).rows[0]!.id,
    );
    const listed = await all({ incidentId, status: 'firing' }, 97);
    expect(listed).toEqual(rows.map((r) => Number(r.id)));
    expect(listed.length).toBeGreaterThan(500);
    const firing = await all({ status: 'firing' }, 500);
    expect(firing).toHaveLength(2000);
    expect(firing).toEqual(newestFirst(firing));
    expect(await all({}, 1000)).toHaveLength(3000);
  });
});
