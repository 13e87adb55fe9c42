import { DateTime } from 'luxon';

/** Weekday keys of a calendar's opening hours, Monday first (ISO weekday 1–7). */
export const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
/** One weekday key. */
export type Weekday = (typeof weekdays)[number];

/**
 * When the clock of an SLA runs: opening hours per weekday in a time zone (IANA name), and
 * holidays (local dates, YYYY-MM-DD) on which it does not. `null` means around the clock.
 */
export type BusinessCalendar = {
  timezone: string;
  /** Opening intervals per weekday, local "HH:MM" to "HH:MM" (end after start; "24:00" allowed). */
  hours: Partial<Record<Weekday, [string, string][]>>;
  holidays: string[];
};

const DAY_SECONDS = 86_400;
// A calendar open for a minute a year still ends a search: past this, a deadline is "never".
const MAX_DAYS = 3 * 366;

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

/** The calendar's open intervals [start, end) in epoch ms on the local day that starts at `day`. */
function openOn(calendar: BusinessCalendar, day: DateTime): [number, number][] {
  if (calendar.holidays.includes(day.toISODate()!)) return [];
  const intervals = calendar.hours[weekdays[day.weekday - 1]!] ?? [];
  // Wall-clock times of that day, so a daylight-saving change moves the instants, not the hours.
  const at = (hhmm: string) => {
    const m = minutesOf(hhmm);
    return m >= 24 * 60
      ? day.plus({ days: 1 }).startOf('day').toMillis()
      : day.set({ hour: Math.floor(m / 60), minute: m % 60 }).toMillis();
  };
  return intervals.map(([from, to]) => [at(from), at(to)]);
}

/** Seconds of business time between two instants (0 when `to` is not after `from`). */
export function businessSeconds(calendar: BusinessCalendar | null, from: Date, to: Date): number {
  const start = from.getTime();
  const end = to.getTime();
  if (end <= start) return 0;
  if (!calendar) return (end - start) / 1000;
  let total = 0;
  let day = DateTime.fromMillis(start, { zone: calendar.timezone }).startOf('day');
  for (let i = 0; i <= MAX_DAYS && day.toMillis() < end; i++, day = day.plus({ days: 1 })) {
    for (const [open, close] of openOn(calendar, day)) {
      const overlap = Math.min(close, end) - Math.max(open, start);
      if (overlap > 0) total += overlap / 1000;
    }
  }
  return total;
}

/**
 * The instant at which `seconds` of business time have passed since `from`, or null when the
 * calendar is not open that long within three years.
 */
export function addBusinessSeconds(
  calendar: BusinessCalendar | null,
  from: Date,
  seconds: number,
): Date | null {
  if (seconds <= 0) return from;
  if (!calendar) return new Date(from.getTime() + seconds * 1000);
  let left = seconds * 1000;
  const start = from.getTime();
  let day = DateTime.fromMillis(start, { zone: calendar.timezone }).startOf('day');
  for (let i = 0; i <= MAX_DAYS; i++, day = day.plus({ days: 1 })) {
    for (const [open, close] of openOn(calendar, day)) {
      const begin = Math.max(open, start);
      if (close <= begin) continue;
      if (close - begin >= left) return new Date(begin + left);
      left -= close - begin;
    }
  }
  return null;
}

/** Whether a calendar is valid: a known zone and well-formed, ordered opening intervals. */
export function calendarProblems(calendar: BusinessCalendar): string[] {
  const problems: string[] = [];
  if (!DateTime.now().setZone(calendar.timezone).isValid)
    problems.push(`unknown time zone "${calendar.timezone}"`);
  for (const [day, intervals] of Object.entries(calendar.hours)) {
    for (const [from, to] of intervals ?? []) {
      if (minutesOf(to) <= minutesOf(from))
        problems.push(`${day}: ${from}–${to} ends before it starts`);
      if (minutesOf(to) > DAY_SECONDS / 60) problems.push(`${day}: ${to} is past 24:00`);
    }
  }
  return problems;
}
