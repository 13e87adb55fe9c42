import { Hono } from 'hono';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { startScheduler } from '../correlator/cron.ts';
import { Jobs } from '../correlator/jobs.ts';
import { startCorrelatorWorkers } from '../correlator/worker.ts';
import { createIngestApp } from '../ingest/app.ts';
import type { Accept } from '../ingest/ingest.ts';
import { createServicesApp } from '../services/app.ts';
import { createPool, ensureDatabase, isConnectionError } from '../services/store/db.ts';
import { insertInbox } from '../services/store/inbox.ts';
import { migrate } from '../services/store/migrate.ts';
import { createSearchClient, ensureIndices, pingSearch } from '../services/store/search.ts';
import { createConsoleApp } from '../web/app.ts';
import { adminAuthenticator, resolveAdminToken } from './auth.ts';
import type { Config } from './config.ts';
import { createMetrics } from './metrics.ts';
import { renderError, renderNotFound } from './problem.ts';

/** The parts one process can run; `npm start` runs them all. */
export const processRoles = ['ingest', 'services', 'correlator', 'web'] as const;
/** One part. */
export type ProcessRole = (typeof processRoles)[number];

/** A running Tocsin: its HTTP app (not yet listening) and how to stop it. */
export type Tocsin = { app: Hono; adminToken: string; close(): Promise<void> };

// The placeholder rule's window; the correlation engine makes this configuration.
const CORRELATION_WINDOW_MS = 30 * 60 * 1000;
// Ingest never waits long on Redis: the alert is already durable and the sweep re-enqueues it.
const ENQUEUE_TIMEOUT_MS = 1000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Wires the given roles to PostgreSQL, Redis and Elasticsearch: migrates the database, builds the
 * HTTP app (health, metrics and each role's routes) and starts the workers and scheduler.
 */
export async function startTocsin(
  config: Config,
  roles: readonly ProcessRole[],
  log: Logger,
): Promise<Tocsin> {
  await ensureDatabase(config.databaseUrl);
  const pool = createPool(config.databaseUrl, 20);
  const applied = await migrate(pool);
  if (applied.length > 0) log.info({ applied }, 'database migrated');

  // Producers fail fast while Redis is down; workers wait for it (BullMQ needs no retry limit).
  const producer = new Redis(config.redisUrl, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
  });
  const consumer = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  for (const r of [producer, consumer])
    r.on('error', (err) => log.debug({ err: err.message }, 'redis'));
  const jobs = new Jobs(producer, config.queuePrefix);
  const es = createSearchClient(config.elasticsearchUrl);
  ensureIndices(es, config.indexPrefix).catch((err: Error) =>
    log.warn(
      { err: err.message },
      'Elasticsearch not ready; search indices are created when it is',
    ),
  );

  const metrics = createMetrics(() => jobs.depth());
  const { token: adminToken } = resolveAdminToken(config);
  const authenticate = adminAuthenticator(adminToken);

  const app = new Hono();
  app.onError(renderError(log));
  app.notFound(renderNotFound);
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const [postgres, redis, elasticsearch] = await Promise.all([
      pool.query('SELECT 1').then(
        () => true,
        () => false,
      ),
      withTimeout(producer.ping(), 1000).then(
        () => true,
        () => false,
      ),
      pingSearch(es),
    ]);
    const state = (up: boolean) => (up ? 'up' : 'down');
    // Search being down delays search only: the process is still ready to accept alerts.
    return c.json(
      {
        ready: postgres && redis,
        postgres: state(postgres),
        redis: state(redis),
        elasticsearch: state(elasticsearch),
      },
      postgres && redis ? 200 : 503,
    );
  });
  app.get('/metrics', async (c) =>
    c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }),
  );

  if (roles.includes('ingest')) {
    const accept: Accept = async (source, alerts) => {
      let ids: string[];
      try {
        ids = await insertInbox(pool, source, alerts);
      } catch (err) {
        if (isConnectionError(err))
          return { kind: 'unavailable', detail: 'PostgreSQL is unavailable; retry later.' };
        throw err;
      }
      try {
        await withTimeout(jobs.add('alert.correlate', { inboxIds: ids }), ENQUEUE_TIMEOUT_MS);
      } catch (err) {
        log.warn(
          { err: (err as Error).message, alerts: ids.length },
          'enqueue failed; the inbox sweep will pick these up',
        );
      }
      return { kind: 'stored' };
    };
    app.route(
      '/',
      createIngestApp({ authenticate, accept, maxBodyBytes: config.maxBodyBytes, metrics, log }),
    );
  }
  if (roles.includes('services')) {
    app.route(
      '/',
      createServicesApp({
        pool,
        es,
        indexPrefix: config.indexPrefix,
        authenticate,
        queueDepth: () => jobs.depth(),
        log,
      }),
    );
  }
  if (roles.includes('web')) app.route('/', createConsoleApp());

  const workers = roles.includes('correlator')
    ? startCorrelatorWorkers({
        pool,
        es,
        jobs,
        connection: consumer,
        queuePrefix: config.queuePrefix,
        indexPrefix: config.indexPrefix,
        concurrency: config.correlatorConcurrency,
        settings: { windowMs: CORRELATION_WINDOW_MS },
        metrics,
        log,
      })
    : null;
  const scheduler = roles.includes('correlator')
    ? startScheduler(jobs, config.sweepCron, log)
    : null;

  return {
    app,
    adminToken,
    async close() {
      scheduler?.stop();
      await workers?.close();
      await jobs.close();
      producer.disconnect();
      consumer.disconnect();
      await es.close();
      await pool.end();
    },
  };
}
