/**
 * bench/problem-mining: what the problem miner's pattern search (correlator/problems.ts
 * recurringPatterns) costs, and what it does to the process it runs in. The correlator runs the
 * `problem.mine` job (hourly) in the process of live correlation, so what matters beside its CPU
 * time is the longest stretch it keeps that process's event loop from anything else.
 *
 * The incidents are bench/correlation's: a storm of `--days` days on its estate (tier A's
 * background noise, or tier C's ten times as much), run through the engine in process, read as the
 * store's recurrenceIncidents() would give them (the miner's look-back being the whole storm).
 * Each search runs three times on the same incidents, in this order:
 *  - whole (the baseline): one synchronous call, as the search ran before it took turns;
 *  - in turns: on the event loop, giving it a turn every few milliseconds;
 *  - in a thread: as the miner runs it, on a worker thread, the input and patterns copied across.
 * Meanwhile a setImmediate is queued again and again, standing for the rest of the process; the
 * longest gap between two of its turns is the longest the loop was kept. All three must find the
 * same patterns (checked).
 *
 *   npm run bench:problem-mining [-- --tiers A,C --days 7,28]
 *
 * Prints a table and writes bench/results/problem-mining-<time>.json.
 */
import { loadavg } from 'node:os';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import {
  problemMiningDefaults,
  recurringPatterns,
  searchInThread,
  type Pattern,
} from '../correlator/problems.ts';
import { createTemplateIndex } from '../correlator/similarity.ts';
import { minerInput } from './correlation/engine-correlator.ts';
import { defaultEstateOptions } from './correlation/estate.ts';
import { createTiers, defaultStormOptions } from './correlation/storms.ts';
import { engineRun } from './correlation/stream.ts';
import { describeMachine, markdownTable, writeResults } from './processes.ts';

const { values: args } = parseArgs({
  options: {
    tiers: { type: 'string', default: 'A,C' },
    days: { type: 'string', default: '7,28' },
    seed: { type: 'string', default: '1' },
  },
});
const tierNames = args.tiers.split(',').map((t) => t.trim().toUpperCase());
const dayCounts = args.days.split(',').map(Number);
if (dayCounts.some((d) => !(d >= 1)) || tierNames.some((t) => !['A', 'B', 'C'].includes(t)))
  throw new Error('--tiers among A,B,C; --days each ≥ 1');

type Search = { wallMs: number; cpuMs: number; longestGapMs: number; turns: number };

/** One search, with the rest of the process standing by as a setImmediate queued again. */
async function timed(run: () => Promise<Pattern[]>): Promise<{ found: Pattern[]; search: Search }> {
  let done = false;
  let turns = 0;
  let last = performance.now();
  let longestGapMs = 0;
  const other = () => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
    if (done) return;
    turns++;
    setImmediate(other);
  };
  const cpu = process.cpuUsage();
  const start = performance.now();
  setImmediate(other);
  const found = await run();
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  done = true;
  // The gap the search ended, until the stand-in's next turn.
  await new Promise<void>((resolve) => setImmediate(resolve));
  longestGapMs = Math.max(longestGapMs, performance.now() - last);
  return {
    found,
    search: { wallMs, cpuMs: (used.user + used.system) / 1000, longestGapMs, turns },
  };
}

type Row = {
  tier: string;
  days: number;
  incidents: number;
  patterns: number;
  whole: Search;
  inTurns: Search;
  inThread: Search;
};

const loadBefore = loadavg()[0]!;
const rows: Row[] = [];
for (const days of dayCounts) {
  const tiers = createTiers(defaultEstateOptions, {
    ...defaultStormOptions,
    seed: Number(args.seed),
    days,
  });
  for (const tier of tiers.filter((t) => tierNames.includes(t.name))) {
    const { result } = await engineRun(tier, {});
    const { incidents, classCis, anchors } = minerInput(result, tier.cmdb);
    // Each search on an index of its own, made before it is timed (as the miner's is per run).
    const search = async (sliceMs?: number) => {
      const index = await createTemplateIndex();
      return timed(() =>
        recurringPatterns(
          incidents,
          index,
          classCis,
          anchors,
          { ...problemMiningDefaults },
          sliceMs,
        ),
      );
    };
    const whole = await search(Infinity);
    const inTurns = await search();
    // As the miner runs it: on a worker thread, the input and the patterns copied across.
    const inThread = await timed(() =>
      searchInThread({ incidents, classCis, anchors, settings: { ...problemMiningDefaults } }),
    );
    if (!isDeepStrictEqual(whole.found, inThread.found))
      throw new Error(`tier ${tier.name}, ${days} days: the thread found different patterns`);
    if (!isDeepStrictEqual(whole.found, inTurns.found))
      throw new Error(`tier ${tier.name}, ${days} days: the two searches found different patterns`);
    rows.push({
      tier: tier.name,
      days,
      incidents: incidents.length,
      patterns: whole.found.length,
      whole: whole.search,
      inTurns: inTurns.search,
      inThread: inThread.search,
    });
    console.error(`tier ${tier.name}, ${days} days: done`);
  }
}

console.log(
  `\nbench/problem-mining: bench/correlation's storms (seed ${args.seed}), the whole storm as the look-back`,
);
console.log(`${describeMachine(loadBefore)}\n`);
const ms = (x: number) => Math.round(x).toLocaleString('en-US');
for (const line of markdownTable(
  [
    'tier',
    'days',
    'incidents',
    'patterns',
    'whole: CPU ms',
    'whole: loop kept, ms',
    'in turns: wall ms',
    'in turns: CPU ms',
    'turns',
    'in turns: loop kept, ms',
    'loop kept, ratio',
    'in a thread: wall ms',
    'turns',
    'in a thread: loop kept, ms',
  ],
  rows.map((r) => [
    r.tier,
    String(r.days),
    r.incidents.toLocaleString('en-US'),
    String(r.patterns),
    ms(r.whole.cpuMs),
    ms(r.whole.longestGapMs),
    ms(r.inTurns.wallMs),
    ms(r.inTurns.cpuMs),
    r.inTurns.turns.toLocaleString('en-US'),
    r.inTurns.longestGapMs.toFixed(1),
    (r.inTurns.longestGapMs / r.whole.longestGapMs).toFixed(4),
    ms(r.inThread.wallMs),
    r.inThread.turns.toLocaleString('en-US'),
    r.inThread.longestGapMs.toFixed(1),
  ]),
  [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
))
  console.log(line);
writeResults('problem-mining', loadBefore, {
  settings: { tiers: tierNames, days: dayCounts, seed: Number(args.seed) },
  rows,
});
