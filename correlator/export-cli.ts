/**
 * `npm run export-alerts -- [--since <RFC 3339>] [--until <RFC 3339>]`: writes the accepted
 * alerts received in that span (default: the last 7 days) to standard output as NDJSON, in the
 * order the correlator took them, for `npm run replay`.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../runtime/config.ts';
import { correlatedDeliveries } from '../services/store/correlation.ts';
import { createPool } from '../services/store/db.ts';

const { values: args } = parseArgs({
  options: { since: { type: 'string' }, until: { type: 'string' } },
});
const until = args.until ?? new Date().toISOString();
const since = args.since ?? new Date(Date.parse(until) - 7 * 24 * 3600 * 1000).toISOString();
for (const [name, value] of [
  ['--since', since],
  ['--until', until],
] as const)
  if (Number.isNaN(Date.parse(value))) {
    console.error(`${name} must be an RFC 3339 time, got ${value}`);
    process.exit(2);
  }

const config = loadConfig(process.env);
const pool = createPool(config.databaseUrl, 1);
let n = 0;
try {
  for await (const d of correlatedDeliveries(pool, { from: since, until })) {
    if (!process.stdout.write(JSON.stringify({ receivedAt: d.receivedAt, alert: d.alert }) + '\n'))
      await new Promise((resolve) => process.stdout.once('drain', resolve));
    n++;
  }
} finally {
  await pool.end();
}
console.error(`exported ${n} accepted alerts received from ${since} until ${until}`);
