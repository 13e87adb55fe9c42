/**
 * `npm run replay -- <stream.ndjson> [--cmdb cmdb.json] [--config '<json>'] [--out result.json]`:
 * runs a recorded stream (see correlator/replay.ts) through the correlation engine at full speed
 * and prints the incidents it makes. The CMDB comes from `--cmdb` (the body of
 * `POST /api/v1/cmdb/import`) or else from Tocsin's database (DATABASE_URL); the settings from
 * `--config` or else TOCSIN_CORRELATION, as the live correlator takes them. `--out` writes each
 * delivery's incident and every incident with its root causes as JSON.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../runtime/config.ts';
import { readCmdb } from '../services/store/correlation.ts';
import { createPool } from '../services/store/db.ts';
import type { EngineCmdb } from './engine/engine.ts';
import { parseStream, replay, StreamError } from './replay.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    cmdb: { type: 'string' },
    config: { type: 'string' },
    out: { type: 'string' },
  },
});
const file = positionals[0];
if (!file) {
  console.error('usage: npm run replay -- <stream.ndjson> [--cmdb f] [--config json] [--out f]');
  process.exit(2);
}

const config = loadConfig(
  args.config === undefined ? process.env : { ...process.env, TOCSIN_CORRELATION: args.config },
);
let cmdb: EngineCmdb;
if (args.cmdb !== undefined) cmdb = JSON.parse(readFileSync(args.cmdb, 'utf8')) as EngineCmdb;
else {
  const pool = createPool(config.databaseUrl, 1);
  try {
    cmdb = await readCmdb(pool);
  } finally {
    await pool.end();
  }
}

let deliveries;
try {
  deliveries = parseStream(readFileSync(file, 'utf8'));
} catch (err) {
  if (!(err instanceof StreamError)) throw err;
  console.error(`${file}: ${err.message}`);
  process.exit(1);
}
const started = performance.now();
const result = await replay(cmdb, deliveries, config.correlation);
const seconds = (performance.now() - started) / 1000;
console.log(
  `${deliveries.length} deliveries → ${new Set(result.incidentOf).size} incidents ` +
    `(${cmdb.cis.length} CIs; ${Math.round(deliveries.length / seconds)} deliveries/s); ` +
    `the largest still live at the end:`,
);
const biggest = [...result.incidents].sort((a, b) => b.alerts.length - a.alerts.length);
for (const incident of biggest.slice(0, 10))
  console.log(
    `  ${incident.id.padEnd(7)} ${String(incident.alerts.length).padStart(5)} alerts  ` +
      `${new Date(incident.firstAt).toISOString()}  root cause ${incident.rootCause[0]?.ci ?? '—'}` +
      `  ${incident.alerts[0]?.title ?? ''}`,
  );
if (args.out !== undefined) {
  writeFileSync(args.out, JSON.stringify(result, null, 1) + '\n');
  console.log(`written to ${args.out}`);
}
