/**
 * bench/correlation/rootcause-loss: where root-cause top-1 is lost, and why, on the generated
 * storms with ground truth.
 *
 *   npm run bench:rootcause-loss [-- --tiers A,B --seeds 1,2,3 --engine-config JSON --list]
 *
 * Runs the engine on arrival and, for every true incident whose matched predicted incident (as
 * score.ts matches them: the one holding most of its alerts) does not name its true root CI
 * first, puts the miss down to the first thing that went wrong: the predicted incident is mostly
 * another true incident's (a storm took it in: its root is the other's); the true root alerted
 * but its alerts are in another predicted incident (a fragment split off); the true root never
 * alerted (an inferred cause) and another was named; or the true root is in the incident and
 * ranked lower, by what (a CI it depends on, one that depends on it, its whole or part, a hub,
 * something else; marked when the named CI's alerts in the incident are all noise or another
 * fault's), with the two scores, which of them alerted first and how many CIs the incident has. Beside it, for every predicted incident of exactly a whole and one of its parts
 * (an application and one instance) holding the true root: which is the cause, which was named,
 * and which alerted first. The engine is run with every candidate kept, to find the true root's
 * rank.
 */
import { parseArgs } from 'node:util';
import { createCorrelationEngine } from '../../correlator/engine/engine.ts';
import { Topology } from '../../correlator/engine/topology.ts';
import { matchIncidents } from './score.ts';
import { diagnosticArgs, engineConfigOf, runsOf, seedsOf } from './settings.ts';
import { alertIncidents, materialize } from './stream.ts';

const { values: args } = parseArgs({
  options: {
    ...diagnosticArgs('A,B'),
    list: { type: 'boolean', default: false },
  },
});
const engineConfig = engineConfigOf(args);
const seeds = seedsOf(args);

const tallies = new Map<string, Map<string, number>>();
const add = (tier: string, key: string) => {
  const t = tallies.get(tier) ?? new Map<string, number>();
  tallies.set(tier, t);
  t.set(key, (t.get(key) ?? 0) + 1);
};
const size = (n: number) => (n <= 2 ? String(n) : n <= 5 ? '3-5' : n <= 20 ? '6-20' : '>20');

for (const { seed, tier } of runsOf(args)) {
  const stream = materialize(tier);
  const engine = await createCorrelationEngine(tier.cmdb, {
    ...engineConfig,
    rootCauseCandidates: 100_000,
  });
  for (const delivery of stream.deliveries) engine.push(delivery);
  engine.flush();
  const result = engine.result();
  const topology = new Topology(tier.cmdb.cis, tier.cmdb.relationships, {
    maxHops: engine.config.maxHops,
    hubDegree: engine.config.hubDegree,
    dependencyDepth: engine.config.dependencyDepth,
  });
  const incidents = alertIncidents(stream, result.incidentOf);
  const match = matchIncidents(stream.truth, incidents);
  const byId = new Map(result.incidents.map((i) => [i.id, i]));
  // Each logical alert's CI and start, from its first delivery's engine alert.
  const alertCi: (string | null)[] = stream.truth.map(() => null);
  const seen = new Set<number>();
  stream.alertOf.forEach((a, seq) => {
    if (seen.has(a)) return;
    seen.add(a);
    alertCi[a] = result.alertOf[seq]?.ci ?? null;
  });
  const members = new Map<string, number[]>();
  const predictedTruth = new Map<string, Map<string | null, number>>();
  stream.truth.forEach((t, a) => {
    if (t.incident !== null) members.set(t.incident, [...(members.get(t.incident) ?? []), a]);
    const p = incidents[a];
    if (p == null) return;
    const m = predictedTruth.get(p) ?? new Map<string | null, number>();
    predictedTruth.set(p, m);
    m.set(t.incident, (m.get(t.incident) ?? 0) + 1);
  });
  for (const [incident, alerts] of members) {
    add(tier.name, 'true incidents');
    const root = stream.truth[alerts[0]!]!.rootCause;
    const p = match.get(incident);
    const predicted = p === undefined ? undefined : byId.get(p);
    const ranked = predicted?.rootCause ?? [];
    // Incidents of exactly a whole and one of its parts: which is the cause, and the time order.
    const pairCis = [...new Set(predicted?.alerts.map((a) => a.ci).filter((c) => c !== null))];
    if (pairCis.length === 2) {
      const [x, y] = pairCis as [string, string];
      const whole = topology.parts(x).includes(y) ? x : topology.parts(y).includes(x) ? y : null;
      if (whole !== null && pairCis.includes(root)) {
        const firstCi = [...predicted!.alerts].sort((a, b) => a.startsAt - b.startsAt)[0]!.ci;
        const role = (c: string | undefined) => (c === whole ? 'whole' : 'part');
        add(
          tier.name,
          `pair: root the ${role(root)}, named the ${role(ranked[0]?.ci)}, ` +
            `the ${role(firstCi ?? undefined)} alerted first`,
        );
      }
    }
    if (ranked[0]?.ci === root) {
      add(tier.name, 'hit');
      continue;
    }
    let why: string;
    const rootAlerts = alerts.filter((a) => alertCi[a] === root);
    const composition = p === undefined ? undefined : predictedTruth.get(p);
    let biggest: string | null = null;
    let most = 0;
    for (const [t, n] of composition ?? [])
      if (t !== null && n > most) {
        biggest = t;
        most = n;
      }
    const cis = new Set(predicted?.alerts.map((a) => a.ci).filter((c) => c !== null));
    const rank = ranked.findIndex((c) => c.ci === root);
    const top = ranked[0];
    if (predicted === undefined) why = '0 no predicted incident';
    else if (biggest !== incident)
      why = `1 absorbed: predicted incident mostly another's (${size(alerts.length)} alerts)`;
    else if (rootAlerts.length > 0 && !cis.has(root))
      why = `2 split: the root's alerts in another incident (${size(cis.size)} CIs left)`;
    else {
      const silent = !cis.has(root);
      const t = top!.ci;
      const relation = topology.wholes(root).includes(t)
        ? 'the whole of the root'
        : topology.parts(root).includes(t)
          ? 'a part of the root'
          : topology.dependencies(root).has(t)
            ? 'a CI the root depends on'
            : topology.dependencies(t).has(root)
              ? 'a dependent of the root'
              : topology.isHub(t)
                ? 'a hub'
                : 'unrelated';
      const firstCi = [...predicted.alerts].sort((a, b) => a.startsAt - b.startsAt)[0]?.ci;
      const order =
        firstCi === t
          ? 'it alerted first'
          : firstCi === root
            ? 'root alerted first'
            : 'neither first';
      const where = rank < 0 ? 'not a candidate' : rank < 3 ? `rank ${rank + 1}` : 'rank >3';
      // Whether the named CI alerted in this incident only through alerts not of its fault:
      // background noise or another fault's that joined it.
      const own = new Set(alerts.filter((a) => incidents[a] === p).map((a) => alertCi[a]));
      const foreign = cis.has(t) && !own.has(t) ? ' (on foreign alerts only)' : '';
      why =
        `${silent ? '3 silent root' : '4 root alerting'}, ${where}, beaten by ${relation}${foreign}` +
        (silent ? '' : `; ${order}`) +
        `; ${size(cis.size)} CIs`;
      if (args.list)
        console.log(
          `  ${tier.name}${seed} ${incident} root ${root} (${rank < 0 ? '-' : ranked[rank]!.score}) ` +
            `← ${t} (${top!.score}) [${relation}; ${order}; ${cis.size} CIs, ${alerts.length} alerts]` +
            `\n      top: ${top!.reason}` +
            (rank >= 0 ? `\n      root: ${ranked[rank]!.reason}` : ''),
        );
    }
    add(tier.name, why);
    // The kind alone (what comes before the first comma or colon), as a subtotal.
    add(tier.name, `miss: ${why.split(/[,:]/)[0]!}`);
  }
}

for (const [tier, t] of tallies) {
  const all = t.get('true incidents') ?? 0;
  console.log(
    `\ntier ${tier}, seeds ${seeds.join(',')}: ${all} true incidents, ${t.get('hit') ?? 0} hits ` +
      `(RC@1 ${((t.get('hit') ?? 0) / all).toFixed(3)})`,
  );
  for (const [key, n] of [...t.entries()].sort())
    if (key !== 'true incidents' && key !== 'hit')
      console.log(
        `  ${key.padEnd(100)} ${String(n).padStart(5)} (${((100 * n) / all).toFixed(1)}%)`,
      );
}
