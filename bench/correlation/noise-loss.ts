/**
 * bench/correlation/noise-loss: where the engine puts background (noise) alerts into incidents,
 * and why, on the generated storms with ground truth.
 *
 *   npm run bench:noise-loss [-- --tiers A,B,C --seeds 1,2,3 --engine-config JSON]
 *
 * Runs the engine on arrival and, for every noise alert (its truth belongs to no incident) that
 * ends up in an incident with other alerts (what the scorer counts as noise attached: its incident
 * is the one most of its deliveries went to, and the incident's size counts logical alerts), says
 * which decision path put it there, from its stored explanation: none, when it shares its engine
 * alert with another logical alert (deduplicated by fingerprint; then why: a re-send of an alert
 * that never resolved, a refire, an overlap), or it was attached by the score (to an incident of
 * one alert or more), by the hop-aware chance (coincidenceLevel), as a lone alert's company, by text and time, merged in as a fragment,
 * or it opened the incident and others joined it (then: how the first alert that joined it came,
 * and whether that one was noise too). Beside it: its hops (in the CMDB as seen, up to 6) to the
 * nearest CI of the other alerts in its final incident, the time to the nearest of them, its text
 * similarity (the explanation's), the final incident's size, the chance the engine stated at the
 * decision, and the CMDB class of its CI against the share of noise alerts of that class. Last,
 * the calibration of the lone chance: the topology attaches to an incident of one alert, by the
 * chance the engine decided them on and by hops, against the share that were unrelated to it.
 */
import { parseArgs } from 'node:util';
import type { EngineAlert } from '../../correlator/engine/engine.ts';
import { diagnosticArgs, engineConfigOf, runsOf, seedsOf } from './settings.ts';
import { engineRun, topologyWithin } from './stream.ts';

const { values: args } = parseArgs({
  options: {
    ...diagnosticArgs('A,B,C'),
  },
});
const engineConfig = engineConfigOf(args);
const seeds = seedsOf(args);

const tallies = new Map<string, Map<string, number>>();
const totals = new Map<string, { noise: number; attached: number }>();
/** Per tier: topology attaches to an incident of one alert, by their stated lone chance and hops. */
type Calibration = { attaches: number; unrelated: number; stated: number };
const loneCalibration = new Map<string, Map<string, Calibration>>();
const calibrate = (tier: string, key: string, stated: number, unrelated: boolean) => {
  const t = loneCalibration.get(tier) ?? new Map<string, Calibration>();
  loneCalibration.set(tier, t);
  const c = t.get(key) ?? { attaches: 0, unrelated: 0, stated: 0 };
  c.attaches++;
  c.stated += stated;
  if (unrelated) c.unrelated++;
  t.set(key, c);
};
/** Per tier and CI class: noise alerts, and those attached. */
const classTotals = new Map<string, Map<string, [number, number]>>();
const add = (tier: string, key: string) => {
  const t = tallies.get(tier) ?? new Map<string, number>();
  tallies.set(tier, t);
  t.set(key, (t.get(key) ?? 0) + 1);
};
const bucket = (x: number) =>
  x < 0.01 ? '<.01' : x < 0.05 ? '<.05' : x < 0.2 ? '<.2' : x < 0.5 ? '<.5' : '≥.5';
const sizeBucket = (n: number) => (n <= 2 ? String(n) : n <= 3 ? '3' : n <= 10 ? '4-10' : '>10');
const gapBucket = (ms: number) => {
  const min = ms / 60_000;
  return min <= 1 ? '0-1' : min <= 5 ? '1-5' : min <= 15 ? '5-15' : '>15';
};

/** The path an alert's explanation says placed it (for one that did not open its incident). */
function pathOf(alert: EngineAlert): string {
  const e = alert.explanation;
  if (e.decision === 'new') return 'opened';
  const m = e.message;
  let path: string;
  if (e.basis === 'text-time') path = 'text-time';
  else if (e.basis === 'text') path = 'text alone';
  else if (m.includes('taken as a coincidence exactly')) path = 'ring (coincidenceLevel)';
  else if (m.includes('lone alerts near it are company')) path = 'lone-company';
  else if (/counting how often lone alerts have had company/.test(m)) path = 'score, lone target';
  else path = 'score';
  return path + (e.decision === 'merge' ? ' +merged' : '');
}

/** The chance the engine stated at the decision that placed an alert (ring or lone when used). */
function statedChance(alert: EngineAlert): number {
  const m = alert.explanation.message;
  const ring = /\(chance ([\d.]+) < /.exec(m);
  if (ring) return Number(ring[1]);
  const lone = /\(([\d.]+) counting how often lone alerts/.exec(m);
  if (lone) return Number(lone[1]);
  const any = /anywhere in the estate; ([\d.]+) counting/.exec(m);
  if (any) return Number(any[1]);
  return alert.explanation.chance;
}

for (const { tier } of runsOf(args)) {
  const { events, engine, result } = await engineRun(tier, engineConfig);
  const far = topologyWithin(tier, engine, 6);
  const classOf = new Map(tier.cmdb.cis.map((ci) => [ci.name, ci.class]));
  // Per logical alert of the truth, as the scorer takes it: its incident is the one most of its
  // deliveries ended up in; its engine alert, its first delivery's.
  const truthIndex = new Map<string, number>();
  const alertOfSeq = events.map(({ truth }) => {
    let i = truthIndex.get(truth.alert);
    if (i === undefined) truthIndex.set(truth.alert, (i = truthIndex.size));
    return i;
  });
  const truthOf = [...truthIndex.keys()].map(() => null as null | (typeof events)[0]['truth']);
  events.forEach(({ truth }, seq) => (truthOf[alertOfSeq[seq]!] ??= truth));
  const votes = truthOf.map(() => new Map<string, number>());
  result.incidentOf.forEach((incident, seq) => {
    if (incident == null) return;
    const v = votes[alertOfSeq[seq]!]!;
    v.set(incident, (v.get(incident) ?? 0) + 1);
  });
  const incidentOfTruth = votes.map((v) => {
    let best: string | null = null;
    let most = 0;
    for (const [incident, n] of v) if (n > most) [best, most] = [incident, n];
    return best;
  });
  // Its engine alert: the first delivery's that went to that incident; and each engine alert's.
  const engineAlertOf: (EngineAlert | null)[] = truthOf.map(() => null);
  const episodesOf = truthOf.map(() => new Set<string>());
  events.forEach((_, seq) => {
    const i = alertOfSeq[seq]!;
    const alert = result.alertOf[seq];
    if (alert == null) return;
    episodesOf[i]!.add(alert.id);
    if (result.incidentOf[seq] === incidentOfTruth[i]) engineAlertOf[i] ??= alert;
  });
  // Each logical alert's start, end (its latest resolved delivery's; null: never resolved),
  // and the latest delivery time of that resolve, to say why two shared one engine alert.
  const span = truthOf.map(() => ({
    start: Infinity,
    end: null as number | null,
    resolvedSeen: 0,
    source: '',
  }));
  events.forEach(({ delivery }, seq) => {
    const x = span[alertOfSeq[seq]!]!;
    const a = delivery.alert;
    x.source = a.source ?? 'generic';
    if (a.startsAt) x.start = Math.min(x.start, Date.parse(a.startsAt));
    if (a.status === 'resolved' && a.endsAt) {
      x.end = Math.max(x.end ?? -Infinity, Date.parse(a.endsAt));
      x.resolvedSeen = Math.max(x.resolvedSeen, seq);
    }
  });
  const firstSeq = truthOf.map(() => Infinity);
  events.forEach((_, seq) => {
    const i = alertOfSeq[seq]!;
    firstSeq[i] = Math.min(firstSeq[i]!, seq);
  });
  const byEngineAlert = new Map<string, number[]>();
  engineAlertOf.forEach((a, i) => {
    if (a !== null) byEngineAlert.set(a.id, [...(byEngineAlert.get(a.id) ?? []), i]);
  });
  const dedupCase = (i: number): string => {
    const x = span[i]!;
    const others = byEngineAlert.get(engineAlertOf[i]!.id)!.filter((j) => j !== i);
    const j = others[0];
    if (j === undefined) return 'own episodes only';
    const o = span[j]!;
    const kind = truthOf[j]!.incident === null ? 'noise' : 'true';
    const when =
      o.start > x.start
        ? 'other started later'
        : o.end === null
          ? 'other never resolved'
          : o.end > x.start
            ? 'overlapping'
            : o.resolvedSeen > firstSeq[i]!
              ? `other's resolve delivered after this firing (${Math.round((x.start - o.end) / 60_000)} min apart)`
              : `refired ${(x.start - o.end) / 60_000 <= 15 ? '≤15' : '>15'} min after other resolved`;
    return `${x.source.padEnd(12)} with ${kind}: ${when}`;
  };
  const truthSizes = new Map<string, number>();
  for (const p of incidentOfTruth) if (p !== null) truthSizes.set(p, (truthSizes.get(p) ?? 0) + 1);
  // Engine alerts shared by more than one logical alert (deduplicated by fingerprint).
  const sharers = new Map<string, number>();
  for (const a of engineAlertOf) if (a !== null) sharers.set(a.id, (sharers.get(a.id) ?? 0) + 1);
  const noise = new Set<string>();
  const order = new Map<string, number>();
  result.alertOf.forEach((alert) => {
    if (alert != null && !order.has(alert.id)) order.set(alert.id, order.size);
  });
  truthOf.forEach((t, i) => {
    if (t!.incident === null && engineAlertOf[i] !== null) noise.add(engineAlertOf[i]!.id);
  });
  // Each topology attach to an incident that held one alert (as the stream went): was the lone
  // chance it was decided on (see statedChance) true to how often such attaches were unrelated?
  const members = new Map<string, (string | null)[]>();
  const placedOnce = new Set<string>();
  events.forEach(({ truth }, seq) => {
    if (placedOnce.has(truth.alert)) return;
    placedOnce.add(truth.alert);
    const incident = result.incidentOf[seq];
    const alert = result.alertOf[seq];
    if (incident == null || alert == null) return;
    const before = members.get(incident) ?? [];
    members.set(incident, before);
    const e = alert.explanation;
    if (
      e.decision !== 'new' &&
      e.basis === 'topology' &&
      before.length === 1 &&
      /counting how often lone alerts/.test(e.message)
    ) {
      const unrelated = truth.incident === null || !before.includes(truth.incident);
      const stated = statedChance(alert);
      const b = bucket(stated);
      calibrate(tier.name, `chance ${b}`, stated, unrelated);
      calibrate(tier.name, `hops ${e.hops}`, stated, unrelated);
      calibrate(tier.name, `hops ${e.hops} chance ${b}`, stated, unrelated);
    }
    before.push(truth.incident);
  });
  const byIncident = new Map(result.incidents.map((i) => [i.id, i]));
  const total = totals.get(tier.name) ?? { noise: 0, attached: 0 };
  totals.set(tier.name, total);
  const noiseByClass = new Map<string, number>();
  const attachedByClass = new Map<string, number>();
  for (const [i, t] of truthOf.entries()) {
    if (t!.incident !== null) continue;
    total.noise++;
    const alert = engineAlertOf[i]!;
    const p = incidentOfTruth[i]!;
    const incident = byIncident.get(p)!;
    const id = alert.id;
    const cls = (alert.ci !== null ? classOf.get(alert.ci) : undefined) ?? '(unknown)';
    noiseByClass.set(cls, (noiseByClass.get(cls) ?? 0) + 1);
    if (truthSizes.get(p)! < 2) continue;
    total.attached++;
    attachedByClass.set(cls, (attachedByClass.get(cls) ?? 0) + 1);
    const others = incident.alerts.filter((a) => !episodesOf[i]!.has(a.id));
    if (sharers.get(id)! > 1 || others.length === 0) {
      add(tier.name, 'path  deduplicated with another logical alert (same fingerprint)');
      add(tier.name, `dedup  ${dedupCase(i)}`);
      continue;
    }
    let path = pathOf(alert);
    const earlier = others.filter((a) => order.get(a.id)! < order.get(id)!);
    if (path === 'opened') {
      // Who joined it: the first later alert of its incident, and how.
      const first = [...others].sort((a, b) => order.get(a.id)! - order.get(b.id)!)[0]!;
      const joiner = pathOf(first);
      path =
        earlier.length > 0
          ? `opened, merged into an older incident (${joiner === 'opened' ? 'opened' : joiner})`
          : `opened, joined by ${noise.has(first.id) ? 'noise' : 'a true alert'} via ${joiner}`;
    }
    let hops = Infinity;
    let gap = Infinity;
    for (const o of others) {
      if (alert.ci !== null && o.ci !== null)
        hops = Math.min(hops, far.neighbourhood(alert.ci).get(o.ci) ?? Infinity);
      gap = Math.min(gap, Math.abs(o.startsAt - alert.startsAt));
    }
    const h = hops === Infinity ? '>6' : String(hops);
    const noiseShare = others.filter((o) => noise.has(o.id)).length / others.length;
    add(tier.name, `path  ${path}`);
    add(tier.name, `hops  ${h}`);
    add(tier.name, `gap   ${gapBucket(gap)} min`);
    add(tier.name, `size  ${sizeBucket(incident.alerts.length)}`);
    add(tier.name, `earlier alerts in incident  ${sizeBucket(earlier.length)}`);
    add(
      tier.name,
      `others noise  ${noiseShare === 1 ? 'all' : noiseShare > 0.5 ? '>half' : noiseShare > 0 ? 'some' : 'none'}`,
    );
    if (alert.explanation.decision !== 'new') {
      const chance = bucket(statedChance(alert));
      add(tier.name, `chance ${pathOf(alert)}  ${chance}`);
      add(
        tier.name,
        `text  ${alert.explanation.text >= 0.99 ? '1' : alert.explanation.text >= 0.6 ? '≥.6' : alert.explanation.text > 0 ? '>0' : '0'}`,
      );
      add(tier.name, `path×hops  ${pathOf(alert)}  ${h}`);
    }
  }
  const classes = classTotals.get(tier.name) ?? new Map<string, [number, number]>();
  classTotals.set(tier.name, classes);
  for (const [cls, n] of noiseByClass) {
    const c = classes.get(cls) ?? [0, 0];
    classes.set(cls, [c[0] + n, c[1] + (attachedByClass.get(cls) ?? 0)]);
  }
}

for (const [tier, t] of tallies) {
  const { noise, attached } = totals.get(tier)!;
  console.log(
    `\ntier ${tier}, seeds ${seeds.join(',')}: ${attached} of ${noise} noise alerts attached ` +
      `(${((100 * attached) / noise).toFixed(2)}%)`,
  );
  for (const [key, n] of [...t.entries()].sort())
    console.log(
      `  ${key.padEnd(60)} ${String(n).padStart(6)} ${((100 * n) / attached).toFixed(1).padStart(6)}%`,
    );
  console.log('  by CI class: noise alerts, attached, share attached');
  for (const [cls, [n, a]] of [...classTotals.get(tier)!].sort((x, y) => y[1][0] - x[1][0]))
    console.log(
      `    ${cls.padEnd(24)} ${String(n).padStart(6)} ${String(a).padStart(5)} ${((100 * a) / n).toFixed(1).padStart(6)}%`,
    );
  console.log(
    '  topology attaches to an incident of one alert: attaches, stated lone chance, unrelated',
  );
  for (const [key, c] of [...(loneCalibration.get(tier) ?? [])].sort())
    console.log(
      `    ${key.padEnd(24)} ${String(c.attaches).padStart(6)}  stated ${(c.stated / c.attaches).toFixed(3)}  unrelated ${(c.unrelated / c.attaches).toFixed(3)}`,
    );
}
