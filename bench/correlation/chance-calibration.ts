/**
 * bench/correlation/chance-calibration: whether the engine's chance of a coincidence means what
 * it says, and why noise alerts end up in incidents, on the generated storms with ground truth.
 *
 *   npm run bench:chance-calibration [-- --tiers A,C --seeds 7,8,9,10 --engine-config JSON]
 *
 * Runs the engine on arrival (its defaults, `--engine-config` JSON overrides them) and prints, per
 * tier over the seeds:
 *  - calibration: the topology attaches, by the chance of a coincidence their explanation states,
 *    with the share of them that were unrelated to the incident they joined (a noise alert, or
 *    an alert of a true incident none of the alerts placed there before it belongs to). Were the
 *    chance calibrated, the two columns would agree;
 *  - the same share by the size the incident had when the alert joined it, and by its hops;
 *  - the noise alerts put in an incident with another alert: by what placed them (the basis and
 *    hops of their explanation, or that they opened the incident others then joined) and whether
 *    that incident holds alerts of a true incident or only noise.
 * "Placed there before it" counts the alerts processed earlier that ended up in the same incident
 * at the end of the stream: a later merge makes an attach look better than it was, never worse.
 * Writes bench/results/chance-calibration-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCorrelationEngine } from '../../correlator/engine/engine.ts';
import { diagnosticArgs, engineConfigOf, runsOf, seedsOf } from './settings.ts';
import { generateStorm, type StormEvent } from './storms.ts';

const { values: args } = parseArgs({
  options: {
    ...diagnosticArgs('A,C'),
  },
});
const engineConfig = engineConfigOf(args);
const seeds = seedsOf(args);

/** The stated-chance buckets: each takes a chance below its bound and at or above the last. */
const CHANCE_BUCKETS = [
  { below: 0.02, label: '< 0.02' },
  { below: 0.05, label: '0.02–0.05' },
  { below: 0.1, label: '0.05–0.1' },
  { below: 0.2, label: '0.1–0.2' },
  { below: 0.4, label: '0.2–0.4' },
  { below: Infinity, label: '≥ 0.4' },
];
/** The size buckets: the alerts the incident held when the alert joined it, at most `upTo`. */
const SIZE_BUCKETS = [
  { upTo: 1, label: '1' },
  { upTo: 3, label: '2–3' },
  { upTo: 10, label: '4–10' },
  { upTo: Infinity, label: '> 10' },
];

type Tally = { attaches: number; unrelated: number; statedChance: number };
type TierTally = {
  byChance: Tally[];
  bySize: Tally[];
  /** By the hops of the attach, 0 to the engine's maxHops. */
  byHops: Tally[];
  noise: number;
  noiseAttached: number;
  /** Noise alerts in an incident with others, by what placed them there. */
  noiseBy: Record<string, number>;
  /** The same, by whether the incident holds alerts of a true incident. */
  noiseInto: { storm: number; noiseOnly: number };
};

const emptyTally = (): Tally => ({ attaches: 0, unrelated: 0, statedChance: 0 });

/** One tier and seed, its counts added to `tally`. */
async function measure(
  events: StormEvent[],
  cmdb: Parameters<typeof createCorrelationEngine>[0],
  tally: TierTally,
) {
  const engine = await createCorrelationEngine(cmdb, engineConfig);
  for (const { delivery } of events) engine.push(delivery);
  engine.flush();
  const result = engine.result();
  // Each alert at its first delivery, in delivery order: the order the engine decided in.
  const members = new Map<string, (string | null)[]>();
  const seen = new Set<string>();
  const placed: { incident: string; truth: string | null; seq: number }[] = [];
  events.forEach(({ truth }, seq) => {
    if (seen.has(truth.alert)) return;
    seen.add(truth.alert);
    const incident = result.incidentOf[seq];
    const explanation = result.alertOf[seq]?.explanation;
    if (incident == null || explanation === undefined) return;
    const before = members.get(incident) ?? [];
    members.set(incident, before);
    if (explanation.decision !== 'new' && explanation.basis === 'topology' && before.length > 0) {
      const unrelated = truth.incident === null || !before.includes(truth.incident);
      for (const t of [
        tally.byChance[CHANCE_BUCKETS.findIndex((b) => explanation.chance < b.below)]!,
        tally.bySize[SIZE_BUCKETS.findIndex((b) => before.length <= b.upTo)]!,
        (tally.byHops[explanation.hops ?? 0] ??= emptyTally()),
      ]) {
        t.attaches++;
        if (unrelated) t.unrelated++;
        t.statedChance += explanation.chance;
      }
    }
    before.push(truth.incident);
    placed.push({ incident, truth: truth.incident, seq });
  });
  for (const { incident, truth, seq } of placed) {
    if (truth !== null) continue;
    tally.noise++;
    const all = members.get(incident)!;
    if (all.length < 2) continue;
    tally.noiseAttached++;
    const explanation = result.alertOf[seq]!.explanation;
    const by =
      explanation.decision === 'new'
        ? 'opened, others joined'
        : `${explanation.basis ?? 'unknown'}${explanation.hops === null ? '' : `, ${explanation.hops} hops`}`;
    tally.noiseBy[by] = (tally.noiseBy[by] ?? 0) + 1;
    if (all.some((t) => t !== null)) tally.noiseInto.storm++;
    else tally.noiseInto.noiseOnly++;
  }
}

const share = (n: number, of: number) => (of === 0 ? '-' : (n / of).toFixed(3));

const tallies: Record<string, TierTally> = {};
for (const { tier } of runsOf(args)) {
  const tally = (tallies[tier.name] ??= {
    byChance: CHANCE_BUCKETS.map(emptyTally),
    bySize: SIZE_BUCKETS.map(emptyTally),
    byHops: [],
    noise: 0,
    noiseAttached: 0,
    noiseBy: {},
    noiseInto: { storm: 0, noiseOnly: 0 },
  });
  await measure([...generateStorm(tier)], tier.cmdb, tally);
}

console.log(`\nchance calibration: tiers ${args.tiers}, seeds ${seeds.join(', ')}`);
for (const [name, t] of Object.entries(tallies)) {
  console.log(`\ntier ${name}: topology attaches by stated chance of a coincidence`);
  t.byChance.forEach((b, i) => {
    if (b.attaches > 0)
      console.log(
        `  ${CHANCE_BUCKETS[i]!.label.padEnd(10)} ${String(b.attaches).padStart(6)} attaches, ` +
          `stated ${share(b.statedChance, b.attaches)}, unrelated ${share(b.unrelated, b.attaches)}`,
      );
  });
  console.log(`  by the incident's size when joined (alerts):`);
  t.bySize.forEach((b, i) => {
    if (b.attaches > 0)
      console.log(
        `  ${SIZE_BUCKETS[i]!.label.padEnd(10)} ${String(b.attaches).padStart(6)} attaches, ` +
          `stated ${share(b.statedChance, b.attaches)}, unrelated ${share(b.unrelated, b.attaches)}`,
      );
  });
  console.log(`  by hops:`);
  t.byHops.forEach((b, hops) => {
    if (b.attaches > 0)
      console.log(
        `  ${String(hops).padEnd(10)} ${String(b.attaches).padStart(6)} attaches, ` +
          `stated ${share(b.statedChance, b.attaches)}, unrelated ${share(b.unrelated, b.attaches)}`,
      );
  });
  console.log(
    `  noise attached: ${t.noiseAttached} of ${t.noise} (${share(t.noiseAttached, t.noise)}); ` +
      `into an incident with true-incident alerts ${t.noiseInto.storm}, noise only ${t.noiseInto.noiseOnly}`,
  );
  for (const [by, n] of Object.entries(t.noiseBy).sort()) console.log(`    ${by}: ${n}`);
}

const root = new URL('../..', import.meta.url).pathname;
const resultsDir = join(root, 'bench/results');
mkdirSync(resultsDir, { recursive: true });
const file = join(
  resultsDir,
  `chance-calibration-${new Date().toISOString().replaceAll(':', '-')}.json`,
);
writeFileSync(
  file,
  JSON.stringify(
    { bench: 'chance-calibration', at: new Date().toISOString(), settings: args, seeds, tallies },
    null,
    2,
  ) + '\n',
);
console.log(`\nresults: ${file}`);
