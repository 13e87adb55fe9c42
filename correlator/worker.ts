import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Metrics } from '../runtime/metrics.ts';
import { withTransaction, type Pool } from '../services/store/db.ts';
import { oldestPendingInbox } from '../services/store/inbox.ts';
import { pruneBefore } from '../services/store/retention.ts';
import { incidentsWithLiveSlas, lockSlaSubject, syncSlaTimers } from '../services/store/slas.ts';
import { drainOutbox, type SearchClient } from '../services/store/search.ts';
import { jobQueue, queues, type JobCatalog, type JobName, type Jobs } from './jobs.ts';
import type { LiveCorrelator } from './live.ts';
import { runProblemMining, type ProblemMiningSettings } from './problems.ts';

/** What the queue workers need, injected by the process that runs them. */
export type WorkerDeps = {
  pool: Pool;
  es: SearchClient;
  jobs: Jobs;
  connection: Redis;
  queuePrefix: string;
  indexPrefix: string;
  concurrency: number;
  /**
   * The live correlator of this process (it correlates only while it holds the lease); null
   * where no correlator runs, which then serves no correlate queue.
   */
  correlator: LiveCorrelator | null;
  /** Resolved alerts and raw deliveries older than this are removed; 0 keeps them for good. */
  retentionDays: number;
  /** How the problem.mine job groups recurring incidents into candidate problems. */
  problemMining: ProblemMiningSettings;
  metrics: Metrics;
  log: Logger;
};

// An accepted alert still pending this long, with nothing queued, lost its correlate job (Redis
// down or flushed); with a backlog queued, only a much older one says so.
const SWEEP_IDLE_MS = 5_000;
const SWEEP_BUSY_MS = 120_000;

function isIdList(value: unknown): value is string[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((v) => typeof v === 'string' && /^\d{1,19}$/.test(v))
  );
}

/** A queue a process may serve. */
export type QueueName = (typeof queues)[keyof typeof queues];

/**
 * Starts workers for the given queues; returns a function that closes them gracefully. A
 * correlator process serves `correlate` (which only wakes its live correlator) and `maintenance`;
 * the search projection (`search`) runs where the records API runs, so that it never takes CPU
 * from the one process that correlates.
 */
export function startWorkers(
  deps: WorkerDeps,
  serve: readonly QueueName[],
): { close(): Promise<void> } {
  const { pool, es, jobs, log } = deps;

  // A correlate job says that alerts were accepted; the lease holder reads the inbox in order
  // (correlator/live.ts), so the job only wakes it, wherever it runs.
  function correlate(data: JobCatalog['alert.correlate']['data']): number {
    if (!isIdList(data?.deliveryIds) && !isIdList(data?.inboxIds))
      throw new UnrecoverableError('alert.correlate needs deliveryIds or inboxIds: string[]');
    if (deps.correlator === null)
      throw new Error('alert.correlate reached a process without a correlator');
    deps.correlator.wake();
    return 0;
  }

  /**
   * Wakes the correlator when the oldest pending alert has waited past the grace period: its job
   * was lost (or, with a backlog queued, the correlator is far behind). One job is enough, as for any delivery: the lease holder reads the inbox to its end
   * once awake. Asks for one row, never the whole backlog: with 100,000 alerts pending, listing
   * the stale ones scanned every pending row every few seconds (12% of PostgreSQL's busy time in
   * bench/pipeline, sampled) and queued a job per 500 of them.
   */
  async function sweep(): Promise<number> {
    const depth = await jobs.depth();
    const age = (depth.correlate ?? 0) > 1 ? SWEEP_BUSY_MS : SWEEP_IDLE_MS;
    const oldest = await oldestPendingInbox(pool);
    if (oldest === null || oldest.waitedMs < age) return 0;
    await jobs.add('alert.correlate', { inboxIds: [oldest.id] });
    log.warn(
      { inboxId: oldest.id, waitedMs: Math.round(oldest.waitedMs) },
      'woke the correlator: an accepted alert waited past the grace period (its job was lost, or the correlator is far behind)',
    );
    return 1;
  }

  async function retain(): Promise<number> {
    if (deps.retentionDays === 0) return 0;
    const cutoff = new Date(Date.now() - deps.retentionDays * 24 * 60 * 60 * 1000);
    const pruned = await pruneBefore(pool, cutoff);
    log.info({ ...pruned, cutoff }, 'retention: removed old alerts, inbox rows and deliveries');
    if (pruned.alerts > 0) await jobs.addCoalesced('search.index');
    return pruned.alerts + pruned.inbox + pruned.deliveries;
  }

  async function checkSlas(): Promise<number> {
    let after = '0';
    let checked = 0;
    for (;;) {
      const ids = await incidentsWithLiveSlas(pool, after, 500);
      for (const id of ids) {
        // The incident's row lock first, as a transition takes it: never a stale state applied.
        await withTransaction(pool, async (tx) => {
          const subject = await lockSlaSubject(tx, id);
          if (subject) await syncSlaTimers(tx, subject, new Date());
        });
      }
      checked += ids.length;
      if (ids.length < 500) return checked;
      after = ids.at(-1)!;
    }
  }

  async function process(job: Job): Promise<number> {
    const name = job.name as JobName;
    switch (name) {
      case 'alert.correlate':
        return correlate(job.data as JobCatalog['alert.correlate']['data']);
      case 'inbox.sweep':
        return sweep();
      case 'search.index':
        return drainOutbox(pool, es, deps.indexPrefix, undefined, (refused) =>
          log.warn(refused, 'search: Elasticsearch refused a record; it is not searchable'),
        );
      case 'alert.retention':
        return retain();
      case 'sla.check':
        return checkSlas();
      case 'problem.mine':
        return runProblemMining(pool, deps.problemMining, log);
      default: {
        const unknown: never = name;
        throw new UnrecoverableError(`unknown job ${String(unknown)}`);
      }
    }
  }

  // How long each job took, by name (only the catalog's: a name from Redis is not a label).
  async function timed(job: Job): Promise<number> {
    const name = Object.hasOwn(jobQueue, job.name) ? job.name : 'unknown';
    const end = deps.metrics.jobDuration.startTimer({ job: name });
    try {
      const result = await process(job);
      end({ outcome: 'completed' });
      return result;
    } catch (err) {
      end({ outcome: 'failed' });
      throw err;
    }
  }

  const workers = serve.map((queue) => {
    const worker = new Worker(queue, timed, {
      connection: deps.connection,
      prefix: deps.queuePrefix,
      concurrency: queue === queues.correlate ? deps.concurrency : 1,
    });
    worker.on('failed', (job, err) =>
      log.warn(
        { job: job?.name, id: job?.id, attempt: job?.attemptsMade, err: err.message },
        'job failed',
      ),
    );
    worker.on('error', (err) => log.error({ err: err.message }, 'worker error'));
    return worker;
  });

  return {
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
