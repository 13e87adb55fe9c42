import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../services/store/db.ts';
import { LATEST_EPISODES, latestEpisodes } from '../../services/store/correlation.ts';
import { createTestDatabase, planNodes } from '../support/db.ts';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: Pool;
beforeAll(async () => {
  db = await createTestDatabase();
  pool = createPool(db.url, 2);
  // 20,000 alerts, three episodes of 'flappy' and one of 'once' among them; never analyzed, as
  // after a burst that autovacuum has not caught up with.
  await pool.query(`
    INSERT INTO incidents (title, severity, priority, opened_at, last_alert_at, created_by)
    VALUES ('storm', 'major', 2, now(), now(), 'correlator')`);
  await pool.query(`
    INSERT INTO alerts (fingerprint, episode, incident_id, ci, title, severity, status, source,
      labels, starts_at, first_received_at, last_received_at)
    SELECT CASE WHEN g <= 3 THEN 'flappy' WHEN g = 4 THEN 'once' ELSE 'fp-' || g END,
      CASE WHEN g <= 3 THEN g ELSE 1 END, (SELECT min(id) FROM incidents), 'ci-' || g % 50,
      'alert ' || g, 'major', 'firing', 'generic', '{}', now(), now(), now()
    FROM generate_series(1, 20000) g`);
});
afterAll(async () => {
  await pool.end();
  await db.drop();
});

describe('latestEpisodes', () => {
  it('gives the highest stored episode of each fingerprint, none for an unknown one', async () => {
    const episodes = await latestEpisodes(pool, ['flappy', 'once', 'never-seen']);
    expect([...episodes]).toEqual([
      ['flappy', 3],
      ['once', 1],
    ]);
    expect(await latestEpisodes(pool, [])).toEqual(new Map());
  });

  it('probes the index once per fingerprint, never scanning the alerts', async () => {
    const fingerprints = Array.from({ length: 700 }, (_, i) => `new-${i}`).concat('flappy');
    const onAlerts = (await planNodes(pool, LATEST_EPISODES, [fingerprints])).filter(
      (n) => n['Relation Name'] === 'alerts',
    );
    expect(onAlerts.map((n) => n['Node Type'])).toEqual(['Index Only Scan']);
    // At most one index entry read per fingerprint.
    expect(onAlerts[0]!['Actual Rows']).toBeLessThanOrEqual(1);
    expect(onAlerts[0]!['Actual Loops']).toBe(701);
  });
});
