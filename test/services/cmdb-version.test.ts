import { describe, expect, it } from 'vitest';
import { cmdbStamp } from '../../services/store/correlation.ts';
import { withTransaction } from '../../services/store/db.ts';
import { useTestDatabase } from '../support/db.ts';

const db = useTestDatabase();

describe("the CMDB's stamp", () => {
  it('changes with every write to CIs or relationships, once it commits, and not otherwise', async () => {
    const stamps: string[] = [await cmdbStamp(db.pool)];
    const changed = async (sql: string) => {
      await db.pool.query(sql);
      const stamp = await cmdbStamp(db.pool);
      expect(stamps, sql).not.toContain(stamp);
      stamps.push(stamp);
    };
    await changed(
      "INSERT INTO configuration_items (name, class) VALUES ('db-1', 'database'), ('app-1', 'application')",
    );
    await changed(
      "INSERT INTO ci_relationships (source_id, target_id, type) SELECT a.id, d.id, 'depends_on' FROM configuration_items a, configuration_items d WHERE a.name = 'app-1' AND d.name = 'db-1'",
    );
    await changed(
      `UPDATE configuration_items SET attributes = '{"ip": "10.0.0.9"}' WHERE name = 'db-1'`,
    );
    await changed('DELETE FROM ci_relationships');
    await changed("DELETE FROM configuration_items WHERE name = 'app-1'");

    // Reading, or writing other records, leaves it.
    await db.pool.query('SELECT count(*) FROM configuration_items');
    await db.pool.query("INSERT INTO services (name, kind) VALUES ('billing', 'business')");
    expect(await cmdbStamp(db.pool)).toBe(stamps.at(-1));

    // Seen only once the writer commits.
    await withTransaction(db.pool, async (tx) => {
      await tx.query("INSERT INTO configuration_items (name, class) VALUES ('cache-1', 'cache')");
      expect(await cmdbStamp(db.pool)).toBe(stamps.at(-1));
    });
    expect(await cmdbStamp(db.pool)).not.toBe(stamps.at(-1));
  });
});
