import { addBusinessSeconds, businessSeconds, type BusinessCalendar } from './business-time.ts';

/**
 * An SLA timer: business seconds counted up to `accountedAt`, and whether it is paused (since
 * when) or stopped (when). All of its arithmetic takes `now`, so tests drive it with their clock.
 */
export type SlaClock = {
  targetSeconds: number;
  elapsedSeconds: number;
  accountedAt: Date;
  pausedSince: Date | null;
  stoppedAt: Date | null;
};

/** What a timer says at an instant. */
export type SlaReading = {
  elapsedSeconds: number;
  remainingSeconds: number;
  /** When it breaches (or breached); null when paused or stopped in time. */
  breachAt: Date | null;
  breached: boolean;
  atRisk: boolean;
  state: 'running' | 'paused' | 'met' | 'breached';
};

function running(clock: SlaClock): boolean {
  return clock.stoppedAt === null && clock.pausedSince === null;
}

/** The timer with its elapsed time brought up to `at` (no change when paused or stopped). */
export function accrue(clock: SlaClock, calendar: BusinessCalendar | null, at: Date): SlaClock {
  if (!running(clock) || at <= clock.accountedAt) return clock;
  return {
    ...clock,
    elapsedSeconds: clock.elapsedSeconds + businessSeconds(calendar, clock.accountedAt, at),
    accountedAt: at,
  };
}

/** Pauses a running timer at `at` (a ticket put on hold). */
export function pause(clock: SlaClock, calendar: BusinessCalendar | null, at: Date): SlaClock {
  if (!running(clock)) return clock;
  return { ...accrue(clock, calendar, at), pausedSince: at };
}

/** Resumes a paused timer at `at`. */
export function resume(clock: SlaClock, at: Date): SlaClock {
  if (clock.pausedSince === null || clock.stoppedAt !== null) return clock;
  return { ...clock, pausedSince: null, accountedAt: at };
}

/** Stops a timer at `at` (responded, resolved); a paused one stops where it was. */
export function stop(clock: SlaClock, calendar: BusinessCalendar | null, at: Date): SlaClock {
  if (clock.stoppedAt !== null) return clock;
  return { ...accrue(clock, calendar, at), pausedSince: null, stoppedAt: at };
}

/** Starts a stopped timer again at `at`, keeping what it had counted (a reopened ticket). */
export function restart(clock: SlaClock, at: Date): SlaClock {
  if (clock.stoppedAt === null) return clock;
  return { ...clock, stoppedAt: null, pausedSince: null, accountedAt: at };
}

/** Reads a timer at `now`: elapsed, remaining, breach time, breached, at risk (≥ share of target). */
export function read(
  clock: SlaClock,
  calendar: BusinessCalendar | null,
  now: Date,
  atRiskShare: number,
): SlaReading {
  const current = accrue(clock, calendar, now);
  const elapsed = current.elapsedSeconds;
  const remaining = clock.targetSeconds - elapsed;
  const breached = remaining < 0 || (remaining === 0 && clock.stoppedAt === null);
  let breachAt: Date | null = null;
  if (running(clock)) {
    // Counting forward from where the timer was last accounted gives the same instant whether
    // it is read before or after the breach.
    breachAt = addBusinessSeconds(
      calendar,
      clock.accountedAt,
      clock.targetSeconds - clock.elapsedSeconds,
    );
  }
  return {
    elapsedSeconds: elapsed,
    remainingSeconds: remaining,
    breachAt,
    breached,
    atRisk: !breached && clock.stoppedAt === null && elapsed >= atRiskShare * clock.targetSeconds,
    state:
      clock.stoppedAt !== null
        ? breached
          ? 'breached'
          : 'met'
        : clock.pausedSince !== null
          ? 'paused'
          : breached
            ? 'breached'
            : 'running',
  };
}
