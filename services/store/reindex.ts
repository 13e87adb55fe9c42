import type { Pool } from './db.ts';
import { recordTypes, type RecordType } from './outbox.ts';
import {
  aliasOf,
  mappings,
  projectRecords,
  type RefusedDocument,
  type SearchClient,
} from './search.ts';

const tables: Record<RecordType, string> = {
  incident: 'incidents',
  problem: 'problems',
  change: 'changes',
  alert: 'alerts',
  ci: 'configuration_items',
  asset: 'assets',
  service: 'services',
  known_error: 'known_errors',
};

// Writes that committed during the copy may carry a timestamp from before it started (now() is
// the transaction's start): re-project everything changed since a little before the copy.
const CATCH_UP_MARGIN = '60 seconds';

async function copyAll(
  pool: Pool,
  es: SearchClient,
  index: string,
  type: RecordType,
  since: string | null,
  onRefused: (refused: RefusedDocument) => void,
): Promise<number> {
  let after = '0';
  let copied = 0;
  // Two batches in flight: the next one is read and serialized while Elasticsearch indexes the
  // previous one (bench/search, 110k docs on two cores: 7.4k docs/s one batch at a time, 14–20k).
  let previous: Promise<number> | null = null;
  try {
    for (;;) {
      const { rows } = await pool.query<{ id: string }>(
        `-- A batch of record ids to project, optionally only those changed since. Params: after id, since.
SELECT id FROM ${tables[type]} WHERE id > $1
  AND ($2::timestamptz IS NULL OR updated_at >= $2::timestamptz - interval '${CATCH_UP_MARGIN}')
ORDER BY id LIMIT 5000`,
        [after, since],
      );
      if (rows.length === 0) break;
      after = rows.at(-1)!.id;
      const batch = projectRecords(
        es,
        pool,
        index,
        type,
        rows.map((r) => r.id),
        onRefused,
      );
      // Awaited below; until then a failure must not count as an unhandled rejection.
      void batch.catch(() => {});
      const done = previous;
      previous = batch;
      if (done) copied += await done;
    }
    if (previous) copied += await previous;
    return copied;
  } catch (err) {
    // Never leave a batch running (or its rejection unhandled) behind a failure.
    if (previous) await Promise.allSettled([previous]);
    throw err;
  }
}

/**
 * Rebuilds every record type's index from PostgreSQL into a new index, swaps the alias to it in
 * one atomic step, then re-projects what changed during the copy and drops the old index.
 */
export async function reindexAll(
  pool: Pool,
  es: SearchClient,
  prefix: string,
  log: (line: string) => void = () => {},
): Promise<Record<RecordType, number>> {
  const counts = {} as Record<RecordType, number>;
  for (const type of recordTypes) {
    const alias = aliasOf(prefix, type);
    const index = `${alias}-${Date.now()}`;
    const { rows } = await pool.query<{ now: string }>(
      '-- Copy start. Params: none.\nSELECT now()',
    );
    const started = rows[0]!.now;
    await es.indices.create({
      index,
      settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '-1' },
      mappings: mappings[type],
    });
    const onRefused = (r: RefusedDocument) =>
      log(`${r.type} ${r.id}: refused by Elasticsearch, not searchable (${r.reason})`);
    counts[type] = await copyAll(pool, es, index, type, null, onRefused);
    await es.indices.putSettings({ index, settings: { refresh_interval: '1s' } });
    const old = (await es.indices.existsAlias({ name: alias }))
      ? Object.keys(await es.indices.getAlias({ name: alias }))
      : [];
    await es.indices.updateAliases({
      actions: [
        ...old.map((i) => ({ remove: { index: i, alias } })),
        { add: { index, alias, is_write_index: true } },
      ],
    });
    await copyAll(pool, es, index, type, started, onRefused);
    if (old.length > 0) await es.indices.delete({ index: old });
    log(`${type}: ${counts[type]} records into ${index} (alias ${alias})`);
  }
  return counts;
}
