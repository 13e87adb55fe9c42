import cron from 'node-cron';
import type { Logger } from 'pino';
import type { Jobs } from './jobs.ts';

/**
 * The scheduler: on each tick it only enqueues the idempotent sweeps (and, on their own
 * schedules, the retention job, the SLA check and problem mining) (coalesced, so several
 * processes ticking at once still queue one each); workers do the work.
 */
export function startScheduler(
  jobs: Jobs,
  schedules: { sweeps: string; retention: string | null; slas: string; problems: string },
  log: Logger,
): { stop(): void } {
  const expression = schedules.sweeps;
  const every = (expr: string, name: 'alert.retention' | 'sla.check' | 'problem.mine') =>
    cron.schedule(
      expr,
      async () => {
        try {
          await jobs.addCoalesced(name);
        } catch (err) {
          log.warn({ err: (err as Error).message, job: name }, 'scheduler could not enqueue');
        }
      },
      { name: `tocsin-${name}`, noOverlap: true },
    );
  const retention = schedules.retention ? every(schedules.retention, 'alert.retention') : null;
  const slas = every(schedules.slas, 'sla.check');
  const problems = every(schedules.problems, 'problem.mine');
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
      void slas.stop();
      void problems.stop();
    },
  };
}
