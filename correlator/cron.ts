import cron from 'node-cron';
import type { Logger } from 'pino';
import type { Jobs } from './jobs.ts';

/**
 * The scheduler: on each tick it only enqueues the idempotent sweeps (and, on its own schedule,
 * the retention job) (coalesced, so several
 * processes ticking at once still queue one each); workers do the work.
 */
export function startScheduler(
  jobs: Jobs,
  schedules: { sweeps: string; retention: string | null },
  log: Logger,
): { stop(): void } {
  const expression = schedules.sweeps;
  const retention = schedules.retention
    ? cron.schedule(
        schedules.retention,
        async () => {
          try {
            await jobs.addCoalesced('alert.retention');
          } catch (err) {
            log.warn({ err: (err as Error).message }, 'scheduler could not enqueue retention');
          }
        },
        { name: 'tocsin-retention', noOverlap: true },
      )
    : null;
  const task = cron.schedule(
    expression,
    async () => {
      try {
        await jobs.addCoalesced('inbox.sweep');
        await jobs.addCoalesced('search.index');
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'scheduler could not enqueue sweeps');
      }
    },
    { name: 'tocsin-sweeps', noOverlap: true },
  );
  return {
    stop: () => {
      void task.stop();
      void retention?.stop();
    },
  };
}
