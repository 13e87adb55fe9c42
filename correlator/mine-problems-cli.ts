/** `npm run mine-problems`: mines DATABASE_URL's recurring incidents once and prints the outcome. */
import { loadConfig } from '../runtime/config.ts';
import { createPool } from '../services/store/db.ts';
import { mineProblems } from './problems.ts';

const config = loadConfig(process.env);
const pool = createPool(config.databaseUrl, 1);
try {
  const result = await mineProblems(pool, {
    lookbackDays: config.problemLookbackDays,
    minIncidents: config.problemMinIncidents,
    priorityMatrix: config.priorityMatrix,
  });
  console.log(
    `read ${result.incidentsRead} incidents opened ${result.since} – ${result.until}; ` +
      `${result.patterns.length} recurring pattern${result.patterns.length === 1 ? '' : 's'} ` +
      `(at least ${config.problemMinIncidents} occurrences each, unlikely by chance)`,
  );
  for (const p of result.patterns) {
    const { direction, earlier, later } = p.trend;
    console.log(
      `${p.outcome.padEnd(9)} ${p.problemNumber} [${p.state}] ${p.signature} — ` +
        `${p.count} incidents, ${direction} (${earlier} → ${later})`,
    );
  }
  const proposed = result.patterns.filter((p) => p.outcome === 'proposed').length;
  const updated = result.patterns.filter((p) => p.outcome === 'updated').length;
  console.log(`proposed ${proposed}, updated ${updated}`);
} finally {
  await pool.end();
}
