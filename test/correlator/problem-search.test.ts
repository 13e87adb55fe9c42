import { describe, expect, it } from 'vitest';
import {
  binomialTail,
  problemMiningDefaults,
  recurringPatterns,
  scheduleBasis,
  searchInThread,
  scheduleChance,
  type Schedule,
} from '../../correlator/problems.ts';
import { createTemplateIndex } from '../../correlator/similarity.ts';
import type { RecurrenceIncident } from '../../services/store/problem-candidates.ts';

const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;

/** A small seeded generator (mulberry32): the same inputs on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const timeOfDay = (t: number) => ((t % DAY) + DAY) % DAY;
const apart = (a: number, b: number) => {
  const d = Math.abs(timeOfDay(a) - timeOfDay(b));
  return Math.min(d, DAY - d);
};

/**
 * scheduleChance as its module comment states it, counted directly over the other CIs' starts
 * (the miner's implementation prepares a class once and subtracts the asking CI): the reference
 * the prepared answers must equal.
 */
function direct(own: number[], others: number[][], windowMs: number): Schedule | null {
  const dayOf = (t: number) => Math.floor(t / DAY);
  const lined = own.map((a) => {
    const days = new Set([dayOf(a)]);
    for (const t of own) if (apart(a, t) <= windowMs) days.add(dayOf(t));
    return days.size;
  });
  const days = Math.max(0, ...lined);
  if (days < 2) return null;
  const uniform = Math.min(1, (2 * windowMs) / DAY);
  const all = others.flat();
  const near = (t: number) => all.filter((u) => apart(t, u) <= windowMs).length;
  let tail = 0;
  for (const a of own) {
    const share = Math.max(uniform, all.length === 0 ? 0 : near(a) / all.length);
    const rest = own.filter((t) => dayOf(t) !== dayOf(a)).length;
    tail += binomialTail(rest, share, days - 1);
  }
  let pairs = 0;
  let close = 0;
  for (const starts of others) {
    pairs += starts.length * (all.length - starts.length);
    for (const t of starts) close += all.filter((u) => apart(t, u) <= windowMs).length;
    for (const t of starts) for (const u of starts) if (apart(t, u) <= windowMs) close--;
  }
  const typical = Math.max(uniform, pairs === 0 ? 0 : close / pairs);
  let chance = Math.min(1, tail);
  for (const { length: n } of others)
    if (n >= days) chance += Math.min(1, tail, n * binomialTail(n - 1, typical, days - 1));
  return {
    at: new Date(timeOfDay(own[lined.indexOf(days)]!)).toISOString().slice(11, 16),
    days,
    windowMinutes: windowMs / 60_000,
    chance,
    own: Math.min(1, tail),
    withCount: null,
  };
}

describe('the schedule test prepared once per class', () => {
  it('answers each CI of a class exactly as the direct count against the other CIs', () => {
    const next = random(7);
    const window = 30 * 60_000;
    const start = Date.UTC(2025, 5, 1);
    // 40 CIs with 0-6 starts each over a month, a third of them at a busy hour; one CI starting at
    // about the same time on five days, and one every hour for five days.
    const starts = new Map<string, number[]>();
    for (let c = 0; c < 40; c++) {
      const n = Math.floor(next() * 7);
      const times = Array.from({ length: n }, () => {
        const day = Math.floor(next() * 30);
        const hour = next() < 0.33 ? 2 + next() : next() * 24;
        return start + day * DAY + Math.floor(hour * HOUR);
      });
      starts.set(`vm-${c}`, times);
    }
    starts.set(
      'vm-batch',
      [1, 2, 3, 5, 8].map((d) => start + d * DAY + 3 * HOUR + d * 60_000),
    );
    starts.set(
      'vm-hourly',
      Array.from({ length: 120 }, (_, h) => start + h * HOUR + 7 * 60_000),
    );
    const basis = scheduleBasis(starts, window);
    let compared = 0;
    for (const [ci, own] of starts) {
      const others = [...starts].filter(([other]) => other !== ci).map(([, times]) => times);
      expect(basis.chance(own, ci), ci).toEqual(direct(own, others, window));
      // A CI's cluster may be some of its starts only.
      const some = own.slice(0, Math.ceil(own.length / 2));
      expect(basis.chance(some, ci), ci).toEqual(direct(some, others, window));
      if (direct(own, others, window) !== null) compared++;
    }
    expect(compared).toBeGreaterThan(10);
    // A CI outside the class is asked against all of it; so is scheduleChance's.
    const outsider = starts.get('vm-batch')!;
    expect(basis.chance(outsider, 'not-in-class')).toEqual(
      direct(outsider, [...starts.values()], window),
    );
    expect(scheduleChance(outsider, [...starts.values()], window)).toEqual(
      direct(outsider, [...starts.values()], window),
    );
  });

  it('agrees with the direct count across midnight and with a window of half a day or more', () => {
    const next = random(11);
    const start = Date.UTC(2025, 0, 1);
    const starts = new Map<string, number[]>();
    for (let c = 0; c < 12; c++)
      starts.set(
        `db-${c}`,
        Array.from(
          { length: 2 + Math.floor(next() * 4) },
          (_, d) => start + d * DAY + 23 * HOUR + Math.floor(next() * 2 * HOUR),
        ),
      );
    for (const window of [20 * 60_000, 12 * HOUR, 13 * HOUR]) {
      const basis = scheduleBasis(starts, window);
      for (const [ci, own] of starts) {
        const others = [...starts].filter(([other]) => other !== ci).map(([, t]) => t);
        expect(basis.chance(own, ci), `${ci} ${window}`).toEqual(direct(own, others, window));
      }
    }
  });
});

/**
 * Turns taken by something else (a timer, I/O) while `run` runs: a setImmediate queued again and
 * again until it is done.
 */
async function turnsWhile<T>(run: () => Promise<T>): Promise<{ found: T; turns: number }> {
  let done = false;
  let turns = 0;
  const other = () => {
    if (done) return;
    turns++;
    setImmediate(other);
  };
  setImmediate(other);
  const found = await run();
  done = true;
  return { found, turns };
}

describe('the pattern search', () => {
  /** A class of 30 VMs with one-off disk and CPU alerts, and one VM whose disk fills every day. */
  function month(): RecurrenceIncident[] {
    const next = random(3);
    const start = Date.UTC(2025, 2, 1);
    const rows: RecurrenceIncident[] = [];
    const add = (ci: string, template: string, at: number, alertCount = 1) => {
      const id = String(rows.length + 1);
      rows.push({
        id,
        number: `INC${id}`,
        openedAt: new Date(at).toISOString(),
        lastAlertAt: new Date(at + 5 * 60_000).toISOString(),
        rootCauseCi: ci,
        ciClass: 'vm',
        template,
        templates: [template],
        alertCount,
      });
    };
    for (let c = 0; c < 30; c++)
      for (let k = 0; k < 3; k++)
        add(
          `vm-${c}`,
          k % 2 === 0 ? 'disk <pct> full on <ci>' : 'cpu usage on <ci> is <pct>',
          start + Math.floor(next() * 30 * DAY),
        );
    // With its own two random ones: 14.
    for (let d = 0; d < 12; d++) add('vm-7', 'disk <pct> full on <ci>', start + d * DAY + HOUR, 3);
    rows.sort((a, b) => a.openedAt.localeCompare(b.openedAt));
    return rows;
  }

  it('gives the event loop turns while it searches, and finds the same patterns as without', async () => {
    const incidents = month();
    const settings = { ...problemMiningDefaults };
    const whole = await recurringPatterns(
      incidents,
      await createTemplateIndex(),
      new Map([['vm', 30]]),
      new Map(),
      settings,
      Infinity,
    );
    expect(whole.map((p) => [p.scope, p.template, p.occurrences])).toEqual([
      ['ci:vm-7', 'disk <pct> full on <ci>', 14],
    ]);

    // With no slice nothing else runs meanwhile; with a turn at every step it runs at every CI.
    const turnsDuring = async (sliceMs: number) => {
      const index = await createTemplateIndex();
      return turnsWhile(() =>
        recurringPatterns(incidents, index, new Map([['vm', 30]]), new Map(), settings, sliceMs),
      );
    };
    const unsliced = await turnsDuring(Infinity);
    expect(unsliced.turns).toBe(0);
    const sliced = await turnsDuring(0);
    expect(sliced.turns).toBeGreaterThanOrEqual(30);
    expect(sliced.found).toEqual(whole);
    expect(unsliced.found).toEqual(whole);
  });

  it('runs on a worker thread of its own, the event loop free meanwhile, and finds the same patterns', async () => {
    const incidents = month();
    const settings = { ...problemMiningDefaults };
    const input = { incidents, classCis: new Map([['vm', 30]]), anchors: new Map(), settings };
    const whole = await recurringPatterns(
      incidents,
      await createTemplateIndex(),
      input.classCis,
      input.anchors,
      settings,
      Infinity,
    );
    const { found, turns } = await turnsWhile(() => searchInThread(input));
    expect(found).toEqual(whole);
    // The thread starts, loads its modules and searches while this loop goes on turning.
    expect(turns).toBeGreaterThan(30);
  });
});
