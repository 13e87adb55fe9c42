import { describe, expect, it } from 'vitest';
import {
  addBusinessSeconds,
  businessSeconds,
  calendarProblems,
  type BusinessCalendar,
} from '../../services/store/business-time.ts';
import {
  pause,
  read,
  restart,
  resume,
  stop,
  type SlaClock,
} from '../../services/store/sla-clock.ts';

const at = (iso: string) => new Date(iso);
const HOUR = 3600;

// Paris office hours, 09:00–17:00 on weekdays, closed on 2026-12-25.
const office: BusinessCalendar = {
  timezone: 'Europe/Paris',
  hours: Object.fromEntries(
    (['mon', 'tue', 'wed', 'thu', 'fri'] as const).map((d) => [d, [['09:00', '17:00']]]),
  ),
  holidays: ['2026-12-25'],
};

describe('business time', () => {
  it('counts every second around the clock without a calendar', () => {
    expect(businessSeconds(null, at('2026-12-01T10:00:00Z'), at('2026-12-01T12:30:00Z'))).toBe(
      2.5 * HOUR,
    );
    expect(addBusinessSeconds(null, at('2026-12-01T10:00:00Z'), 90)).toEqual(
      at('2026-12-01T10:01:30Z'),
    );
  });

  it('counts only opening hours, in the calendar time zone', () => {
    // Friday 16:00 Paris (15:00Z) to Monday 10:00 Paris (09:00Z): 1 h Friday + 1 h Monday.
    expect(businessSeconds(office, at('2026-12-04T15:00:00Z'), at('2026-12-07T09:00:00Z'))).toBe(
      2 * HOUR,
    );
    // Two business hours from Friday 16:00 Paris end on Monday 10:00 Paris.
    expect(addBusinessSeconds(office, at('2026-12-04T15:00:00Z'), 2 * HOUR)).toEqual(
      at('2026-12-07T09:00:00Z'),
    );
  });

  it('skips holidays', () => {
    // Thursday 24 December 16:00 Paris + 2 h: 1 h on the 24th, the 25th closed, 1 h on the 28th
    // (the 26th and 27th are a weekend).
    expect(addBusinessSeconds(office, at('2026-12-24T15:00:00Z'), 2 * HOUR)).toEqual(
      at('2026-12-28T09:00:00Z'),
    );
  });

  it('keeps opening hours in wall-clock time across a daylight-saving change', () => {
    // Paris moves to summer time on Sunday 2027-03-28: Monday opens at 09:00 CEST = 07:00Z.
    expect(addBusinessSeconds(office, at('2027-03-26T15:00:00Z'), 2 * HOUR)).toEqual(
      at('2027-03-29T08:00:00Z'),
    );
  });

  it('finds what is wrong with a calendar', () => {
    expect(calendarProblems({ timezone: 'Mars/Olympus', hours: {}, holidays: [] })).toEqual([
      'unknown time zone "Mars/Olympus"',
    ]);
    expect(
      calendarProblems({ timezone: 'UTC', hours: { mon: [['17:00', '09:00']] }, holidays: [] }),
    ).toEqual(['mon: 17:00–09:00 ends before it starts']);
  });
});

describe('an SLA timer, driven by an injected clock', () => {
  const start: SlaClock = {
    targetSeconds: HOUR,
    elapsedSeconds: 0,
    accountedAt: at('2026-12-01T10:00:00Z'),
    pausedSince: null,
    stoppedAt: null,
  };

  it('runs from its start and breaches at its target', () => {
    expect(read(start, null, at('2026-12-01T10:30:00Z'), 0.75)).toMatchObject({
      elapsedSeconds: 1800,
      remainingSeconds: 1800,
      breachAt: at('2026-12-01T11:00:00Z'),
      breached: false,
      atRisk: false,
      state: 'running',
    });
    expect(read(start, null, at('2026-12-01T10:50:00Z'), 0.75)).toMatchObject({
      atRisk: true,
      breached: false,
    });
    expect(read(start, null, at('2026-12-01T11:05:00Z'), 0.75)).toMatchObject({
      elapsedSeconds: 3900,
      remainingSeconds: -300,
      breachAt: at('2026-12-01T11:00:00Z'),
      breached: true,
      atRisk: false,
      state: 'breached',
    });
  });

  it('does not count while paused, and moves its breach time by the pause', () => {
    const paused = pause(start, null, at('2026-12-01T10:20:00Z'));
    expect(read(paused, null, at('2026-12-01T12:00:00Z'), 0.75)).toMatchObject({
      elapsedSeconds: 1200,
      breachAt: null,
      breached: false,
      state: 'paused',
    });
    const resumed = resume(paused, at('2026-12-01T12:00:00Z'));
    expect(read(resumed, null, at('2026-12-01T12:10:00Z'), 0.75)).toMatchObject({
      elapsedSeconds: 1800,
      breachAt: at('2026-12-01T12:40:00Z'),
      state: 'running',
    });
  });

  it('is met when stopped in time, breached when stopped late, and restarts on reopen', () => {
    const met = stop(start, null, at('2026-12-01T10:45:00Z'));
    expect(read(met, null, at('2026-12-02T00:00:00Z'), 0.75)).toMatchObject({
      elapsedSeconds: 2700,
      breached: false,
      atRisk: false,
      state: 'met',
    });
    const late = stop(start, null, at('2026-12-01T11:30:00Z'));
    expect(read(late, null, at('2026-12-02T00:00:00Z'), 0.75).state).toBe('breached');
    const reopened = restart(met, at('2026-12-01T13:00:00Z'));
    expect(read(reopened, null, at('2026-12-01T13:10:00Z'), 0.75)).toMatchObject({
      elapsedSeconds: 3300,
      atRisk: true,
      state: 'running',
    });
  });

  it('counts business hours only under a calendar', () => {
    const friday: SlaClock = { ...start, accountedAt: at('2026-12-04T15:00:00Z') };
    // One hour on Friday, half an hour on Monday morning.
    expect(read(friday, office, at('2026-12-07T08:30:00Z'), 0.75)).toMatchObject({
      elapsedSeconds: 1.5 * HOUR,
      state: 'breached',
      breachAt: at('2026-12-04T16:00:00Z'),
    });
  });
});
