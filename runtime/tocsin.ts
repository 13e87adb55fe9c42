import { Hono } from 'hono';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { startScheduler } from '../correlator/cron.ts';
import { Jobs, withTimeout } from '../correlator/jobs.ts';
import { LiveCorrelator } from '../correlator/live.ts';
import { startWorkers, type QueueName } from '../correlator/worker.ts';
import { createIngestApp, ingestRoutes } from '../ingest/app.ts';
import { createGroupCommit, type GroupCommit } from '../ingest/group-commit.ts';
import type { Accept, AcceptResult, Submission } from '../ingest/ingest.ts';
import { createRateLimiter } from '../ingest/rate-limit.ts';
import { sources } from '../ingest/sources/index.ts';
import { createServicesApp } from '../services/app.ts';
import { createPool, ensureDatabase, isConnectionError, type Pool } from '../services/store/db.ts';
import { acceptDeliveries } from '../services/store/deliveries.ts';
import { findTokenByHash, findUserTokenByHash, touchTokens } from '../services/store/tokens.ts';
import { migrate } from '../services/store/migrate.ts';
import { createSearchClient, ensureIndices, pingSearch } from '../services/store/search.ts';
import { createConsoleApp } from '../web/app.ts';
import { adminAuthenticator, resolveAdminToken, tokenAuthenticator } from './auth.ts';
import { BodyBudget } from './body-limit.ts';
import type { Config } from './config.ts';
import { createMetrics } from './metrics.ts';
import { renderError, renderNotFound } from './problem.ts';

/** The parts one process can run; `npm start` runs them all. */
export const processRoles = ['ingest', 'services', 'correlator', 'web'] as const;
/** One part. */
export type ProcessRole = (typeof processRoles)[number];

/** A running Tocsin: its HTTP app (not yet listening) and how to stop it. */
export type Tocsin = {
  app: Hono;
  adminToken: string;
  /** Whether this process holds the correlator lease (runs correlation) now. */
  correlatorLeader(): boolean;
  close(): Promise<void>;
};

// Ingest never waits long on Redis: the alert is already durable and the sweep re-enqueues it.
const ENQUEUE_TIMEOUT_MS = 1000;
const TOKEN_USE_FLUSH_MS = 10_000;

/** A delivery's result, or the error that failed it alone (its request answers 500). */
type Committed = AcceptResult | { kind: 'failed'; error: unknown };

// Group commits of deliveries: the first starts at once with whatever waits; while it is in
// flight, another starts only once 16 deliveries wait, up to 4 at a time. A commit waits for its
// WAL flush (1.9-2.5 ms on the VM these figures come from, whatever the batch size: 10 or 30
// deliveries took the same 3.5 ms), so one commit at a time left the ingest process idle a
// quarter of the time at 64 connections; overlapping commits of at least 16 hide that wait
// without the small batches that cost PostgreSQL more per delivery. bench/ingest (a), quiet
// machine: 10,103-10,712 req/s with one in flight (30.5 deliveries per commit, PostgreSQL 25 µs
// per request) against 11,268-11,446 (15.5 per commit, 32-33 µs); 8 in flight from 8 waiting
// answered 9,936. A light load never reaches 16 waiting and keeps one commit at a time.
const COMMITS_IN_FLIGHT = 4;
const MIN_CONCURRENT_COMMIT = 16;

// While a correlate job is being added, newer deliveries wait for the next one, at most this
// often: the job only wakes the correlator, which reads the inbox to its end once awake.
const WAKE_INTERVAL_MS = 10;

/** Wakes the correlator for stored deliveries: one job per round trip, not per commit. */
export type CorrelateNotifier = {
  notify(deliveryIds: readonly string[]): void;
  /** Resolves once every delivery notified so far is in a job (or its enqueue failed). */
  flush(): Promise<void>;
};

/**
 * Coalesces correlate jobs. Each group commit used to add its own job: one Redis script call
 * per commit, a tenth of ingest's CPU at one alert per request. The first commit's job goes at
 * once; commits during its round trip share the next one. A job that cannot be added (Redis
 * down) is not retried here: the alerts are durable and the inbox sweep re-enqueues them.
 */
export function correlateNotifier(jobs: Jobs, log: Logger): CorrelateNotifier {
  let waiting: string[] = [];
  let sending = false;
  let sent: Promise<void> = Promise.resolve();

  async function send(): Promise<void> {
    while (waiting.length > 0) {
      const deliveryIds = waiting;
      waiting = [];
      await jobs
        .add('alert.correlate', { deliveryIds })
        .catch((err: Error) =>
          log.warn(
            { err: err.message, deliveries: deliveryIds.length },
            'enqueue failed; the inbox sweep will pick these up',
          ),
        );
      if (waiting.length > 0) await new Promise((r) => setTimeout(r, WAKE_INTERVAL_MS));
    }
    // In the same turn as the last look at `waiting`: a notify after it starts a new send.
    sending = false;
  }

  return {
    notify(deliveryIds) {
      if (deliveryIds.length === 0) return;
      waiting.push(...deliveryIds);
      if (sending) return;
      sending = true;
      sent = send();
    },
    flush: () => sent,
  };
}

/**
 * Writes one group commit of deliveries, then has the correlator woken for it without holding
 * the answer: the alerts are durable once PostgreSQL committed, and a job lost with Redis is
 * re-enqueued by the inbox sweep. A database outage answers every delivery 503; any other
 * failure of a batch is retried delivery by delivery, so one poisonous delivery cannot fail the
 * others that shared its commit.
 */
async function commitDeliveries(
  pool: Pool,
  wake: CorrelateNotifier,
  batch: Submission[],
): Promise<Committed[]> {
  let results;
  try {
    results = await acceptDeliveries(pool, batch);
  } catch (err) {
    if (isConnectionError(err))
      return batch.map(() => ({
        kind: 'unavailable',
        detail: 'PostgreSQL is unavailable; retry later.',
      }));
    if (batch.length === 1) return [{ kind: 'failed', error: err }];
    return Promise.all(batch.map((one) => commitDeliveries(pool, wake, [one]).then((r) => r[0]!)));
  }
  wake.notify(
    results.filter((r, i) => r.stored && batch[i]!.alerts.length > 0).map((r) => r.deliveryId),
  );
  return results.map((r) => ({
    kind: 'stored',
    accepted: r.alertCount,
    duplicate: !r.stored,
  }));
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
  const jobs = new Jobs(producer, config.queuePrefix, ENQUEUE_TIMEOUT_MS);
  const es = createSearchClient(config.elasticsearchUrl);
  ensureIndices(es, config.indexPrefix).catch((err: Error) =>
    log.warn(
      { err: err.message },
      'Elasticsearch not ready; search indices are created when it is',
    ),
  );

  // The correlator is made below; its state is read at scrape time.
  const scraped: { correlator?: LiveCorrelator } = {};
  // One budget for the bodies both roles read at once: they share the process's memory.
  const bodyBudget = new BodyBudget(config.maxBodyBytesInFlight);
  const metrics = createMetrics(
    () => jobs.depth(),
    () => scraped.correlator?.state() ?? {},
    () => bodyBudget.used,
  );
  const { token: adminToken } = resolveAdminToken(config);
  const tokens = tokenAuthenticator(
    async (hash) => (await findTokenByHash(pool, hash)) ?? findUserTokenByHash(pool, hash),
  );
  const authenticate = adminAuthenticator(adminToken, tokens.authenticate);
  const recordUses = () =>
    touchTokens(pool, tokens.takeUses()).catch((err: Error) =>
      log.warn({ err: err.message }, 'could not record token use'),
    );
  const usesTimer = setInterval(() => void recordUses(), TOKEN_USE_FLUSH_MS);
  usesTimer.unref();
  let ingestCommit: GroupCommit<Submission, Committed> | null = null;
  const wake = correlateNotifier(jobs, log);

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
    ingestCommit = createGroupCommit<Submission, Committed>(
      (batch) => {
        metrics.ingestCommitDeliveries.observe(batch.length);
        return commitDeliveries(pool, wake, batch);
      },
      {
        maxBatch: 1000,
        maxInFlight: COMMITS_IN_FLIGHT,
        minConcurrentBatch: MIN_CONCURRENT_COMMIT,
        maxQueuedWeight: config.ingestMaxBacklog,
      },
    );
    const commit = ingestCommit;
    const accept: Accept = async (submission) => {
      const pending = commit.submit(submission, Math.max(1, submission.alerts.length));
      if (!pending) return { kind: 'overloaded' };
      const result = await pending;
      if (result.kind === 'failed') throw result.error;
      return result;
    };
    app.route(
      '/',
      createIngestApp({
        authenticate,
        accept,
        maxBodyBytes: config.maxBodyBytes,
        bodyBudget,
        maxAlertsPerDelivery: config.maxAlertsPerDelivery,
        limit: createRateLimiter(config.ingestRateLimit),
        signatureToleranceSeconds: config.signatureToleranceSeconds,
        now: Date.now,
        metrics,
      }),
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
        sources: Object.keys(sources),
        priorityMatrix: config.priorityMatrix,
        maxBodyBytes: config.maxBodyBytes,
        bodyBudget,
        log,
        // The API document lists ingest too, wherever that role runs.
        documented: Object.values(ingestRoutes),
      }),
    );
  }
  if (roles.includes('web')) app.route('/', createConsoleApp());

  const correlator = roles.includes('correlator')
    ? new LiveCorrelator({
        pool,
        engine: config.correlation,
        priorityMatrix: config.priorityMatrix,
        onBatch({ receivedAt }) {
          const now = Date.now();
          for (const t of receivedAt)
            metrics.correlationLatency.observe((now - Date.parse(t)) / 1000);
          metrics.alertsCorrelated.inc(receivedAt.length);
          void jobs.addCoalesced('search.index').catch(() => {});
        },
        log,
      })
    : null;
  if (correlator) scraped.correlator = correlator;
  correlator?.start();
  // A correlator process wakes on correlate jobs and runs maintenance; the search projection runs
  // where the records API does (see correlator/worker.ts).
  const serve: QueueName[] = [
    ...(correlator ? (['correlate', 'maintenance'] as const) : []),
    ...(roles.includes('services') ? (['search'] as const) : []),
  ];
  const workers =
    serve.length > 0
      ? startWorkers(
          {
            correlator,
            pool,
            es,
            jobs,
            connection: consumer,
            queuePrefix: config.queuePrefix,
            indexPrefix: config.indexPrefix,
            concurrency: config.correlatorConcurrency,
            retentionDays: config.alertRetentionDays,
            problemMining: {
              lookbackDays: config.problemLookbackDays,
              minIncidents: config.problemMinIncidents,
              priorityMatrix: config.priorityMatrix,
            },
            metrics,
            log,
          },
          serve,
        )
      : null;
  const scheduler = roles.includes('correlator')
    ? startScheduler(
        jobs,
        {
          sweeps: config.sweepCron,
          retention: config.alertRetentionDays > 0 ? config.retentionCron : null,
          slas: config.slaCron,
          problems: config.problemMiningCron,
        },
        log,
      )
    : null;

  return {
    app,
    adminToken,
    correlatorLeader: () => correlator?.leader ?? false,
    async close() {
      clearInterval(usesTimer);
      await ingestCommit?.drain();
      await wake.flush();
      await recordUses();
      scheduler?.stop();
      await workers?.close();
      await correlator?.close();
      await jobs.close();
      producer.disconnect();
      consumer.disconnect();
      await es.close();
      await pool.end();
    },
  };
}
