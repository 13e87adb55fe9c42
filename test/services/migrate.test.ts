import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createPool, ensureDatabase } from '../../services/store/db.ts';
import { migrate } from '../../services/store/migrate.ts';
import { adminUrl, databaseUrl } from '../support/db.ts';

describe('migrate', () => {
  it('creates the database and applies each migration once when several processes start together', async () => {
    const name = `tocsin_test_migrate_${randomBytes(4).toString('hex')}`;
    const url = databaseUrl(name);
    await Promise.all([ensureDatabase(url), ensureDatabase(url), ensureDatabase(url)]);
    const pools = [createPool(url, 1), createPool(url, 1), createPool(url, 1)];
    try {
      const applied = await Promise.all(pools.map((p) => migrate(p)));
      const all = applied.flat();
      expect(all.length).toBeGreaterThan(0);
      expect(new Set(all).size, 'no migration applied twice').toBe(all.length);
      expect(await migrate(pools[0]!)).toEqual([]);
      const { rows } = await pools[0]!.query<{ n: string }>(
        'SELECT count(*) AS n FROM schema_migrations',
      );
      expect(Number(rows[0]!.n)).toBe(all.length);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      const admin = createPool(adminUrl(), 1);
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});
