import { describe, expect, it } from 'vitest';
import { cmdbStamp } from '../../services/store/correlation.ts';
import { withTransaction, type PoolClient } from '../../services/store/db.ts';
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

  it('never makes a CMDB import and an edit of a CI it relates deadlock', async () => {
    await db.pool.query(
      "INSERT INTO configuration_items (name, class) VALUES ('edited', 'server'), ('other', 'server')",
    );
    const editor = await db.pool.connect();
    const importer = await db.pool.connect();
    try {
      // A person's edit locks its CI first, as PATCH /cis/{id} does.
      await editor.query('BEGIN');
      await editor.query("SELECT id FROM configuration_items WHERE name = 'edited' FOR UPDATE");
      // An import writes a CI, then a relationship to the edited CI: that waits for the edit.
      await importer.query('BEGIN');
      await importer.query(
        "INSERT INTO configuration_items (name, class) VALUES ('new', 'application')",
      );
      const related = importer.query(
        "INSERT INTO ci_relationships (source_id, target_id, type) SELECT n.id, e.id, 'runs_on' FROM configuration_items n, configuration_items e WHERE n.name = 'new' AND e.name = 'edited'",
      );
      await waitUntilBlocked(editor);
      await editor.query(
        `UPDATE configuration_items SET attributes = '{"owner": "ops"}' WHERE name = 'edited'`,
      );
      await editor.query('COMMIT');
      await related;
      await importer.query('COMMIT');
    } finally {
      editor.release();
      importer.release();
    }
    const { rows } = await db.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM ci_relationships',
    );
    expect(Number(rows[0]!.n)).toBe(1);
  });
});

/** Waits until another session of this database waits on a lock (the importer's insert). */
async function waitUntilBlocked(session: PoolClient): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    const { rows } = await session.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    if (Number(rows[0]!.n) > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the import never waited for the edit');
}
