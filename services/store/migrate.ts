import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Pool } from './db.ts';
import { withTransaction } from './db.ts';

const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));
// Any constant shared by every Tocsin process: serializes migrators on one database.
const MIGRATION_LOCK = 7_424_801_001;

/** A migration file: `NNNN_what.sql`, append-only. */
type Migration = { version: number; name: string; sql: string };

function readMigrations(): Migration[] {
  return readdirSync(migrationsDir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      version: Number(f.slice(0, 4)),
      name: f.slice(5, -4),
      sql: readFileSync(migrationsDir + f, 'utf8'),
    }));
}

const CREATE_LEDGER = `
-- The ledger of applied migrations. Params: none.
CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/**
 * Applies every pending migration, each with its ledger row, in one transaction under an advisory
 * lock: several processes starting at once apply each file exactly once. Returns the names applied.
 */
export async function migrate(pool: Pool): Promise<string[]> {
  const migrations = readMigrations();
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(CREATE_LEDGER);
    const { rows } = await client.query<{ version: number }>(
      '-- Applied versions. Params: none.\nSELECT version FROM schema_migrations',
    );
    const applied = new Set(rows.map((r) => r.version));
    const done: string[] = [];
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      await client.query(m.sql);
      await client.query(
        '-- Record a migration. Params: version, name.\nINSERT INTO schema_migrations (version, name) VALUES ($1, $2)',
        [m.version, m.name],
      );
      done.push(`${String(m.version).padStart(4, '0')}_${m.name}`);
    }
    return done;
  });
}
