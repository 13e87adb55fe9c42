/**
 * bench/correlation/co-alerts: how much evidence the alert stream itself holds about the CMDB
 * edges it lacks, on the generated storms with ground truth (a diagnostic, never read by the
 * engine).
 *
 *   npm run bench:co-alerts [-- --tiers B --seeds 1,2,3 --gap-min 5]
 *
 * Runs the engine on arrival; for every pair of alerts of one true incident that it left in two
 * incidents (a pair pairwise recall loses), looks at the two engine incidents' CIs and asks what
 * an online co-occurrence learner could have known before that true incident began (its first
 * alert less one window, so the cascade itself does not count): how often some CI of one and
 * some CI of the other had alerted within `gap-min` minutes of each other, and the Poisson tail
 * of that count against the count expected were the two CIs independent (their alert counts so
 * far × 2·gap / time so far). "near" fragments have some CI pair within the engine's maxHops in
 * the CMDB as seen; "far" ones none: topology cannot join them. (The figures in its commit were
 * taken with maxHops 3.)
 */
import { parseArgs } from 'node:util';
import { diagnosticArgs, engineConfigOf, runsOf } from './settings.ts';
import { engineRun, topologyWithin } from './stream.ts';

const { values: args } = parseArgs({
  options: {
    ...diagnosticArgs('B'),
    'gap-min': { type: 'string', default: '5' },
  },
});
const gapMs = Number(args['gap-min']) * 60_000;

type A = { ci: string; at: number; truth: string | null; incident: string };
const key = (a: string, b: string) => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);

for (const { seed, tier } of runsOf(args)) {
  const { events, engine, result } = await engineRun(tier, engineConfigOf(args));
  const near = topologyWithin(tier, engine, engine.config.maxHops);
  const seen = new Set<string>();
  const alerts: A[] = [];
  events.forEach(({ truth }, seq) => {
    if (seen.has(truth.alert)) return;
    seen.add(truth.alert);
    const alert = result.alertOf[seq];
    const incident = result.incidentOf[seq];
    if (alert == null || incident == null || alert.ci === null) return;
    alerts.push({ ci: alert.ci, at: alert.startsAt, truth: truth.incident, incident });
  });
  alerts.sort((a, b) => a.at - b.at);
  const t0 = alerts[0]!.at;
  // Online: the co-alert counts as of each alert's time, kept as history per pair.
  const pairTimes = new Map<string, number[]>();
  const ciTimes = new Map<string, number[]>();
  let lo = 0;
  for (let i = 0; i < alerts.length; i++) {
    const a = alerts[i]!;
    while (alerts[lo]!.at < a.at - gapMs) lo++;
    const partners = new Set<string>();
    for (let j = lo; j < i; j++) if (alerts[j]!.ci !== a.ci) partners.add(alerts[j]!.ci);
    for (const p of partners) {
      const k = key(a.ci, p);
      const list = pairTimes.get(k) ?? [];
      list.push(a.at);
      pairTimes.set(k, list);
    }
    const list = ciTimes.get(a.ci) ?? [];
    list.push(a.at);
    ciTimes.set(a.ci, list);
  }
  const before = (list: number[] | undefined, t: number) => {
    if (!list) return 0;
    let n = 0;
    for (const x of list) if (x < t) n++;
    return n;
  };
  // Lost pairs, by pair of engine incidents.
  const byTruth = new Map<string, A[]>();
  for (const a of alerts)
    if (a.truth !== null) byTruth.set(a.truth, [...(byTruth.get(a.truth) ?? []), a]);
  const byIncident = new Map<string, A[]>();
  for (const a of alerts) byIncident.set(a.incident, [...(byIncident.get(a.incident) ?? []), a]);
  let lost = 0;
  const tally = new Map<string, number>();
  const add = (k: string, n: number) => tally.set(k, (tally.get(k) ?? 0) + n);
  let truePairs = 0;
  for (const [, members] of byTruth) {
    truePairs += (members.length * (members.length - 1)) / 2;
    const first = members[0]!.at;
    const cut = first - 15 * 60_000;
    const groups = new Map<string, A[]>();
    for (const m of members) groups.set(m.incident, [...(groups.get(m.incident) ?? []), m]);
    const ids = [...groups.keys()];
    for (let x = 0; x < ids.length; x++)
      for (let y = x + 1; y < ids.length; y++) {
        const gx = groups.get(ids[x]!)!;
        const gy = groups.get(ids[y]!)!;
        const n = gx.length * gy.length;
        lost += n;
        const cisX = new Set(byIncident.get(ids[x]!)!.map((a) => a.ci));
        const cisY = new Set(byIncident.get(ids[y]!)!.map((a) => a.ci));
        let topo = false;
        let bestCount = 0;
        let bestP = 1;
        for (const cx of cisX)
          for (const cy of cisY) {
            if (cx === cy || near.neighbourhood(cx).has(cy)) topo = true;
            if (cx === cy) continue;
            const c = before(pairTimes.get(key(cx, cy)), cut);
            if (c === 0) continue;
            const nx = before(ciTimes.get(cx), cut);
            const ny = before(ciTimes.get(cy), cut);
            const expected = (nx * ny * 2 * gapMs) / Math.max(1, cut - t0);
            // Poisson tail P(≥c | expected).
            let term = Math.exp(-expected);
            let cdf = 0;
            for (let k = 0; k < c; k++) {
              cdf += term;
              term *= expected / (k + 1);
            }
            const p = Math.max(0, 1 - cdf);
            bestCount = Math.max(bestCount, c);
            bestP = Math.min(bestP, p);
          }
        add(
          topo ? `near in CMDB seen (≤${engine.config.maxHops} hops)` : 'not near in CMDB seen',
          n,
        );
        const ev =
          bestCount === 0
            ? 'no prior co-alert'
            : bestCount === 1
              ? '1 prior co-alert'
              : bestCount < 4
                ? '2-3 prior co-alerts'
                : '≥4 prior co-alerts';
        add(`${topo ? 'near' : 'far '} | ${ev}`, n);
        add(
          `${topo ? 'near' : 'far '} | best Poisson p ${bestP < 1e-4 ? '<1e-4' : bestP < 1e-3 ? '<1e-3' : bestP < 0.01 ? '<.01' : bestP < 0.05 ? '<.05' : '≥.05'}`,
          n,
        );
      }
  }
  // How often CI pairs that co-alert in one true incident recur in another.
  const pairIncidents = new Map<string, Set<string>>();
  for (const [t, members] of byTruth) {
    const cis = [...new Set(members.map((m) => m.ci))];
    if (cis.length > 40) continue;
    for (let x = 0; x < cis.length; x++)
      for (let y = x + 1; y < cis.length; y++) {
        const k = key(cis[x]!, cis[y]!);
        const s = pairIncidents.get(k) ?? new Set<string>();
        s.add(t);
        pairIncidents.set(k, s);
      }
  }
  let recurring = 0;
  for (const s of pairIncidents.values()) if (s.size > 1) recurring++;
  console.log(
    `\ntier ${tier.name} seed ${seed}: ${alerts.length} alerts, ${byTruth.size} true incidents, true pairs ${truePairs}, lost ${lost} (${((100 * lost) / truePairs).toFixed(1)}%); CI pairs within true incidents (≤40 CIs) ${pairIncidents.size}, in ≥2 incidents ${recurring}`,
  );
  for (const [k, n] of [...tally.entries()].sort())
    console.log(`  ${k.padEnd(40)} ${String(n).padStart(7)}`);
}
