/**
 * bench/correlation/recall-loss: where the engine splits true incidents, and why, on the generated
 * storms with ground truth.
 *
 *   npm run bench:recall-loss [-- --tiers A,B --seeds 1,2,3 --engine-config JSON]
 *
 * Runs the engine on arrival and, for every alert of a true incident that an earlier alert of the
 * same true incident preceded but that did not end up with it (a split), says what its explanation
 * says happened: it opened its own incident (no candidate near it in the CMDB or in text; its
 * best candidate, a lone alert, vetoed as likelier a coincidence; or its best candidate scored
 * below the threshold, by hops and chance) or it joined another incident. Beside it, in the true
 * CMDB-as-seen: how far (hops, up to 6) it was from the nearest CI of its true incident's earlier
 * alerts, and how long after the latest of them it came. Each split alert is weighed by the pairs
 * it loses (the alerts of its true incident placed before it elsewhere), as pairwise recall does.
 */
import { parseArgs } from 'node:util';
import { diagnosticArgs, engineConfigOf, runsOf, seedsOf } from './settings.ts';
import { engineRun, topologyWithin } from './stream.ts';

const { values: args } = parseArgs({
  options: {
    ...diagnosticArgs('A,B'),
  },
});
const engineConfig = engineConfigOf(args);
const seeds = seedsOf(args);

type Count = { alerts: number; pairs: number };
const tallies = new Map<string, Map<string, Count>>();
const add = (tier: string, key: string, pairs: number) => {
  const t = tallies.get(tier) ?? new Map<string, Count>();
  tallies.set(tier, t);
  const c = t.get(key) ?? { alerts: 0, pairs: 0 };
  c.alerts++;
  c.pairs += pairs;
  t.set(key, c);
};
const bucket = (x: number) => (x < 0.05 ? '<.05' : x < 0.2 ? '<.2' : x < 0.5 ? '<.5' : '≥.5');

for (const { tier } of runsOf(args)) {
  const { events, engine, result } = await engineRun(tier, engineConfig);
  const far = topologyWithin(tier, engine, 6);
  const seen = new Set<string>();
  const before = new Map<string, { incident: string; ci: string | null; at: number }[]>();
  events.forEach(({ truth }, seq) => {
    if (seen.has(truth.alert) || truth.incident === null) return;
    seen.add(truth.alert);
    const incident = result.incidentOf[seq];
    const alert = result.alertOf[seq];
    if (incident == null || alert == null) return;
    const earlier = before.get(truth.incident) ?? [];
    before.set(truth.incident, earlier);
    const lost = earlier.filter((e) => e.incident !== incident).length;
    if (earlier.length > 0) add(tier.name, 'alerts after the first', 0);
    if (lost > 0) {
      const e = alert.explanation;
      let why: string;
      if (e.decision !== 'new') why = `joined another (${e.basis ?? '?'}, ${e.hops ?? '-'} hops)`;
      else if (e.message.includes('no live incident')) why = 'new: no candidate';
      else if (e.message.includes('more likely a coincidence'))
        why = `new: lone vetoed (chance ${bucket(e.chance)})`;
      else {
        const ring = /exactly (\d) hops? away is not unlikely enough \(([\d.]+)/.exec(e.message);
        why =
          `new: below threshold (chance ${bucket(e.chance)})` +
          (ring ? `, ${ring[1]} hops, at that distance ${bucket(Number(ring[2]))}` : '');
      }
      const ci = alert.ci;
      let hops = Infinity;
      for (const x of earlier)
        if (ci !== null && x.ci !== null)
          hops = Math.min(hops, far.neighbourhood(ci).get(x.ci) ?? Infinity);
      const gapMin = Math.round((alert.startsAt - Math.max(...earlier.map((x) => x.at))) / 60_000);
      add(
        tier.name,
        why +
          (e.decision !== 'new'
            ? earlier.some((x) => x.incident === incident)
              ? ' of its own'
              : ' not its own'
            : ''),
        lost,
      );
      const own = e.decision === 'new' || earlier.some((x) => x.incident === incident);
      if (e.decision !== 'new') why += own ? ' of its own' : ' not its own';
      const h = hops === Infinity ? '>6' : String(hops);
      add(tier.name, `${why}  true hops ${h}`, lost);
      add(
        tier.name,
        `${why}  gap ${gapMin > 15 ? '>15' : gapMin > 5 ? '6-15' : gapMin > 2 ? '3-5' : '0-2'} min`,
        lost,
      );
    }
    earlier.push({ incident, ci: alert.ci, at: alert.startsAt });
  });
}

for (const [tier, t] of tallies) {
  console.log(`\ntier ${tier}, seeds ${seeds.join(',')}: split alerts (alerts, pairs lost)`);
  for (const [key, c] of [...t.entries()].sort())
    console.log(
      `  ${key.padEnd(44)} ${String(c.alerts).padStart(6)} ${String(c.pairs).padStart(8)}`,
    );
}
