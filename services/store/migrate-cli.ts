/** `npm run migrate`: applies pending migrations to DATABASE_URL and exits. */
import { loadConfig } from '../../runtime/config.ts';
import { createPool, ensureDatabase } from './db.ts';
import { migrate } from './migrate.ts';

const config = loadConfig(process.env);
await ensureDatabase(config.databaseUrl);
const pool = createPool(config.databaseUrl, 1);
try {
  const applied = await migrate(pool);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
} finally {
  await pool.end();
}
