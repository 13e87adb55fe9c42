/**
 * Clean-up of a throwaway installation (a test's, a benchmark tier's): its queue keys in Redis and
 * its search indices in Elasticsearch, named by the configuration's prefixes.
 */
import type { Config } from './config.ts';

/** Deletes the installation's queue keys and search indices; its database is the caller's. */
export async function removeQueuesAndIndices(
  config: Pick<Config, 'redisUrl' | 'queuePrefix' | 'elasticsearchUrl' | 'indexPrefix'>,
): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(config.redisUrl);
  const keys = await redis.keys(`${config.queuePrefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  // Elasticsearch refuses wildcard deletes (action.destructive_requires_name): name each index.
  const listed = await fetch(
    `${config.elasticsearchUrl}/_cat/indices/${config.indexPrefix}-*?format=json`,
  );
  const indices = listed.ok
    ? ((await listed.json()) as { index: string }[]).map((i) => i.index)
    : [];
  if (indices.length > 0)
    await fetch(`${config.elasticsearchUrl}/${indices.join(',')}`, { method: 'DELETE' });
}
