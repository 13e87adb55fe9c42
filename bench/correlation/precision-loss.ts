/**
 * bench/correlation/precision-loss: which of the engine's decisions put alerts of different true
 * incidents together (or a background alert with anything), on the generated storms with ground
 * truth — the other half of recall-loss.ts.
 *
 *   npm run bench:precision-loss [-- --tiers C --seeds 1,2,3 --engine-config JSON --detail]
 *
 * Runs the engine on arrival, taking its changes after every delivery, and follows the incidents
 * as they grow. A wrong pair (two alerts in one incident that the truth keeps apart) is formed at
 * one moment: when an alert joins an incident holding alerts of another true incident (charged to
 * what placed it: its explanation's basis, hops and whether the hop-aware level or the score took
 * it), or when an alert's placement merges two incidents (charged to the merge: bridged, a
 * fragment by topology, or a fragment by text). Pairs are what pairwise precision counts, so the
 * shares say where precision goes; the last column counts the pairs that hold a background
 * alert. `--detail` adds, for background alerts that joined others (indented), their hops, text
 * similarity, stated chance of a coincidence and the size of the incident they joined.
 */
import { parseArgs } from 'node:util';
import type { Explanation } from '../../correlator/engine/engine.ts';
import { createCorrelationEngine } from '../../correlator/engine/engine.ts';
import { diagnosticArgs, engineConfigOf, runsOf, seedsOf } from './settings.ts';
import { generateStorm } from './storms.ts';

const { values: args } = parseArgs({
  options: {
    ...diagnosticArgs('C'),
    /** Also breaks down each background alert that joined others by hops, text, chance, size. */
    detail: { type: 'boolean', default: false },
  },
});
const engineConfig = engineConfigOf(args);
const seeds = seedsOf(args);

type Tally = { events: number; pairs: number; noisePairs: number; formed: number };
const tallies = new Map<string, Map<string, Tally>>();
/** The --detail breakdown, kept apart: its pairs are already counted in `tallies`. */
const details = new Map<string, Map<string, Tally>>();
const charge = (
  tier: string,
  key: string,
  pairs: number,
  noisePairs: number,
  formed: number,
  into: Map<string, Map<string, Tally>> = tallies,
) => {
  if (formed === 0) return;
  const t = into.get(tier) ?? new Map<string, Tally>();
  into.set(tier, t);
  const c = t.get(key) ?? { events: 0, pairs: 0, noisePairs: 0, formed: 0 };
  if (pairs > 0) c.events++;
  c.formed += formed;
  c.pairs += pairs;
  c.noisePairs += noisePairs;
  t.set(key, c);
};

/** What placed an alert, from its explanation. */
function placedBy(e: Explanation): string {
  const how = e.message.includes('taken as a coincidence exactly') ? 'level' : 'score';
  const hops = e.hops === null ? '' : ` ${e.hops} hop${e.hops === 1 ? '' : 's'}`;
  const lone = e.message.includes('lone alerts near it are company')
    ? ', lone company'
    : e.message.includes('counting how often lone alerts')
      ? ', lone'
      : '';
  return `attach ${e.basis ?? '?'}${hops} by ${how}${lone}`;
}

/** The kind of each incident an alert's placement merged, from its explanation. */
function mergeKinds(e: Explanation): Map<string, string> {
  const kinds = new Map<string, string>();
  for (const clause of e.message.split('; ')) {
    const m = /^merged (\S+?)(,|$)/.exec(clause);
    if (m === null) continue;
    const kind = clause.includes('the CMDB does not join')
      ? 'merge: text fragment'
      : clause.includes('a fragment of the same cascade')
        ? 'merge: topology fragment'
        : 'merge: bridged';
    // "merged E1, E2" (bridged) names several.
    for (const name of clause.slice('merged '.length).split(', '))
      if (/^E\d+$/.test(name)) kinds.set(name, kind);
    if (m[2] === ',' && kind !== 'merge: bridged') kinds.set(m[1]!, kind);
  }
  return kinds;
}

for (const { tier } of runsOf(args)) {
  const events = [...generateStorm(tier)];
  const engine = await createCorrelationEngine(tier.cmdb, engineConfig);
  // Each alert's truth: its true incident, or its own label for a background alert.
  const truthOf = new Map<string, string>();
  const incidentOf = new Map<string, string>();
  const members = new Map<string, string[]>();
  const wrongPairs = (a: readonly string[], b: readonly string[]) => {
    let wrong = 0;
    let noise = 0;
    const counts = new Map<string, number>();
    for (const x of b) {
      const t = truthOf.get(x)!;
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    const noiseInB = b.filter((x) => truthOf.get(x)!.startsWith('noise:')).length;
    for (const x of a) {
      const t = truthOf.get(x)!;
      const isNoise = t.startsWith('noise:');
      const same = isNoise ? 0 : (counts.get(t) ?? 0);
      wrong += b.length - same;
      noise += isNoise ? b.length : noiseInB;
    }
    return [wrong, noise] as const;
  };
  for (const { delivery, truth } of events) {
    engine.push(delivery);
    const changes = engine.takeChanges();
    const alertChanges = changes.alerts;
    // The alert this delivery made or touched.
    const own = alertChanges.find((c) => !incidentOf.has(c.alert.id));
    for (const c of alertChanges)
      if (!truthOf.has(c.alert.id))
        truthOf.set(c.alert.id, truth.incident ?? `noise:${truth.alert}`);
    const explanation = own?.alert.explanation;
    const kinds = explanation ? mergeKinds(explanation) : new Map<string, string>();
    for (const { from, into } of changes.merged) {
      const a = members.get(from) ?? [];
      const b = members.get(into) ?? [];
      const [wrong, noise] = wrongPairs(a, b);
      charge(tier.name, kinds.get(from) ?? 'merge: other', wrong, noise, a.length * b.length);
      members.set(into, [...b, ...a]);
      members.delete(from);
      for (const x of a) incidentOf.set(x, into);
    }
    for (const c of alertChanges) {
      if (incidentOf.get(c.alert.id) === c.incident) continue;
      const before = incidentOf.get(c.alert.id);
      if (before !== undefined)
        members.set(
          before,
          members.get(before)!.filter((x) => x !== c.alert.id),
        );
      const there = members.get(c.incident) ?? [];
      const [wrong, noise] = wrongPairs([c.alert.id], there);
      charge(tier.name, placedBy(c.alert.explanation), wrong, noise, there.length);
      if (args.detail && truthOf.get(c.alert.id)!.startsWith('noise:') && wrong > 0) {
        const e = c.alert.explanation;
        const tb = e.text === 0 ? '0' : e.text < 0.3 ? '<.3' : e.text < 0.6 ? '<.6' : '≥.6';
        const cb =
          e.chance < 0.01 ? '<.01' : e.chance < 0.05 ? '<.05' : e.chance < 0.2 ? '<.2' : '≥.2';
        const sz = there.length < 4 ? '<4' : there.length < 11 ? '4-10' : '>10';
        const key = `  ${e.hops ?? '-'} hops, text ${tb}, chance ${cb}, size ${sz}`;
        charge(tier.name, key, wrong, noise, there.length, details);
      }
      members.set(c.incident, [...there, c.alert.id]);
      incidentOf.set(c.alert.id, c.incident);
    }
  }
}

for (const [tier, t] of tallies) {
  const all = [...t.values()].reduce((n, c) => n + c.pairs, 0);
  const formed = [...t.values()].reduce((n, c) => n + c.formed, 0);
  console.log(
    `\ntier ${tier}, seeds ${seeds.join(',')}: wrong pairs formed ${all} of ${formed} pairs formed (events that formed wrong pairs, wrong pairs, their share of all wrong pairs, of them with a background alert, wrong share of the pairs this kind of decision formed)`,
  );
  for (const [key, c] of [...t.entries()].sort((x, y) => y[1].pairs - x[1].pairs))
    console.log(
      `  ${key.padEnd(44)} ${String(c.events).padStart(6)} ${String(c.pairs).padStart(9)} ${((100 * c.pairs) / all).toFixed(1).padStart(5)}% ${String(c.noisePairs).padStart(8)} ${((100 * c.pairs) / c.formed).toFixed(1).padStart(5)}%`,
    );
  const d = details.get(tier);
  if (d === undefined) continue;
  console.log('  of them, background alerts that joined others:');
  for (const [key, c] of [...d.entries()].sort((x, y) => y[1].pairs - x[1].pairs))
    console.log(
      `  ${key.padEnd(66)} ${String(c.events).padStart(6)} ${String(c.pairs).padStart(9)} ${((100 * c.pairs) / all).toFixed(1).padStart(5)}%`,
    );
}
