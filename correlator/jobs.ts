import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * The job catalog: the contract between the processes that enqueue work (ingest, cron) and the
 * correlator workers that do it. Payloads carry inbox ids, never alert bodies: PostgreSQL holds
 * every accepted alert, so a lost job delays work but never loses it.
 */

/** Queue names, each prefixed per installation by TOCSIN_QUEUE_PREFIX. */
export const queues = {
  correlate: 'correlate',
  search: 'search',
  maintenance: 'maintenance',
} as const;

/** Every job, its queue and payload. */
export type JobCatalog = {
  /**
   * Correlate accepted alerts into alerts and incidents: the inbox rows of these deliveries (as
   * ingest enqueues them, one job per group commit) or these inbox rows (as the sweep does).
   */
  'alert.correlate': {
    queue: 'correlate';
    data: { deliveryIds: string[]; inboxIds?: never } | { inboxIds: string[]; deliveryIds?: never };
  };
  /** Re-enqueue inbox rows whose correlate job was lost (Redis down or flushed). */
  'inbox.sweep': { queue: 'correlate'; data: Record<string, never> };
  /** Drain the search outbox into Elasticsearch. */
  'search.index': { queue: 'search'; data: Record<string, never> };
  /** Remove resolved alerts, inbox rows and raw deliveries older than the retention period. */
  'alert.retention': { queue: 'maintenance'; data: Record<string, never> };
  /** Read every live SLA timer: start those of new incidents, mark breaches and risks. */
  'sla.check': { queue: 'maintenance'; data: Record<string, never> };
  /** Mine recurring incidents for candidate problems (correlator/problems.ts). */
  'problem.mine': { queue: 'maintenance'; data: Record<string, never> };
};

/** Name of a job in the catalog. */
export type JobName = keyof JobCatalog;

/** The queue each job goes to. */
export const jobQueue = {
  'alert.correlate': 'correlate',
  'inbox.sweep': 'correlate',
  'search.index': 'search',
  'alert.retention': 'maintenance',
  'sla.check': 'maintenance',
  'problem.mine': 'maintenance',
} as const satisfies { [N in JobName]: JobCatalog[N]['queue'] };

/** Retry policy per job: transient failures (PostgreSQL or Elasticsearch away) back off and retry. */
export const jobOptions = {
  'alert.correlate': {
    attempts: 8,
    backoff: { type: 'exponential', delay: 200 },
    removeOnComplete: true,
    removeOnFail: 1000,
  },
  'inbox.sweep': { attempts: 1, removeOnComplete: true, removeOnFail: 100 },
  'search.index': {
    attempts: 5,
    backoff: { type: 'exponential', delay: 500 },
    removeOnComplete: true,
    removeOnFail: 100,
  },
  'sla.check': { attempts: 1, removeOnComplete: true, removeOnFail: 100 },
  'alert.retention': {
    attempts: 3,
    backoff: { type: 'exponential', delay: 60_000 },
    removeOnComplete: true,
    removeOnFail: 100,
  },
  // Idempotent: a failed run is simply the next scheduled one.
  'problem.mine': { attempts: 1, removeOnComplete: true, removeOnFail: 100 },
} as const satisfies Record<JobName, object>;

/** Rejects when `promise` has not settled within `ms`; the caller decides what a timeout means. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Enqueues catalog jobs, typed by name. One instance per process, shared by every producer. Every
 * call gives up after `timeoutMs`: while Redis is away a producer must not hang (the alerts are
 * already durable in PostgreSQL, and the inbox sweep re-enqueues them).
 */
export class Jobs {
  private readonly queues: Record<(typeof queues)[keyof typeof queues], Queue>;

  constructor(
    connection: Redis,
    prefix: string,
    private readonly timeoutMs = 5000,
  ) {
    this.queues = {
      correlate: new Queue(queues.correlate, { connection, prefix }),
      search: new Queue(queues.search, { connection, prefix }),
      maintenance: new Queue(queues.maintenance, { connection, prefix }),
    };
    // Connection errors surface as rejected calls (and the caller's log); without a listener
    // BullMQ would also print each one to stderr.
    for (const queue of Object.values(this.queues)) queue.on('error', () => {});
  }

  /** Adds one job with the catalog's retry policy. */
  async add<N extends JobName>(
    name: N,
    data: JobCatalog[N]['data'],
    options: JobsOptions = {},
  ): Promise<void> {
    await withTimeout(
      this.queueOf(name).add(name, data, { ...jobOptions[name], ...options }),
      this.timeoutMs,
    );
  }

  /**
   * Adds a job at most once while one waits: for idempotent sweeps (search.index, inbox.sweep,
   * alert.retention, sla.check, problem.mine),
   * keeping one queued behind a running one so no change is missed.
   */
  async addCoalesced<
    N extends 'search.index' | 'inbox.sweep' | 'alert.retention' | 'sla.check' | 'problem.mine',
  >(name: N): Promise<void> {
    await this.add(
      name,
      {},
      {
        deduplication: { id: name, keepLastIfActive: true },
      },
    );
  }

  /** The queue a job goes to. */
  queueOf(name: JobName): Queue {
    return this.queues[jobQueue[name]];
  }

  /** Jobs waiting or running per queue, for /metrics and /api/v1/pipeline. */
  async depth(): Promise<Record<string, number>> {
    const entries = await withTimeout(
      Promise.all(
        Object.entries(this.queues).map(async ([name, queue]) => {
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
          return [name, Object.values(counts).reduce((a, b) => a + b, 0)] as const;
        }),
      ),
      this.timeoutMs,
    );
    return Object.fromEntries(entries);
  }

  /** Closes the queues (not the shared connection). */
  async close(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
  }
}
