/** `npm run reindex`: rebuilds every Elasticsearch index from PostgreSQL and swaps the aliases. */
import { loadConfig } from '../../runtime/config.ts';
import { createPool } from './db.ts';
import { reindexAll } from './reindex.ts';
import { createSearchClient } from './search.ts';

const config = loadConfig(process.env);
const pool = createPool(config.databaseUrl, 2);
const es = createSearchClient(config.elasticsearchUrl);
try {
  await reindexAll(pool, es, config.indexPrefix, (line) => console.log(line));
} finally {
  await pool.end();
  await es.close();
}
