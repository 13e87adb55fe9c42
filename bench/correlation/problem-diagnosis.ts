/**
 * bench/correlation/problem-diagnosis: where problem F1 is lost, on the bench's storms with the
 * engine on arrival and the miner's rule (correlator/problems.ts) over its incidents, as
 * bench:correlation scores it.
 *
 *   npx tsx bench/correlation/problem-diagnosis.ts [--tiers A,B,C --seeds 1,2 --cache DIR
 *                                                   --miner-config '{"chance":0.05}' --list]
 *
 * (No `--` before the options: run directly, parseArgs takes it for the end of the options.)
 *
 * Each true pair of incidents (two incidents of one true problem) that is not predicted together
 * is put down to the first thing that went wrong on the way, for the worse of its two incidents:
 * no predicted incident holds its alerts; the predicted incident is not one the miner reads (its
 * root cause raised no alert itself); the predicted root cause is not the true one; the two are
 * in different clusters of templates on the right CI; or their cluster was not proposed (too few
 * occurrences, or likely chance: the smallest chance of the miner's tests is shown). Each false
 * pair (predicted together, not one true problem) is put down to what its candidate is made of.
 * With `--list`, each candidate holding no alert of a true problem (one a problem manager would
 * reject) is listed too, with its test, its chance and what its incidents' alerts truly were.
 * The engine's answer per tier and seed can be kept in `--cache` (it takes most of the time), so
 * the miner can be changed and the diagnosis rerun at once.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCorrelationEngine } from '../../correlator/engine/engine.ts';
import {
  problemMiningDefaults,
  recurringPatterns,
  type Pattern,
  type PatternSettings,
} from '../../correlator/problems.ts';
import { createTemplateIndex } from '../../correlator/similarity.ts';
import type { CiAnchor, RecurrenceIncident } from '../../services/store/problem-candidates.ts';
import { minerInput } from './engine-correlator.ts';
import {
  candidateScores,
  matchIncidents,
  problemScores,
  type AlertPrediction,
  type AlertTruth,
} from './score.ts';
import { stormArgs, tiersFromArgs } from './settings.ts';
import { type Tier } from './storms.ts';
import { alertIncidents, materialize } from './stream.ts';

const { values: args } = parseArgs({
  options: {
    ...stormArgs,
    tiers: { type: 'string', default: 'A,B,C' },
    seeds: { type: 'string', default: '1,2' },
    cache: { type: 'string' },
    'miner-config': { type: 'string', default: '{}' },
    list: { type: 'boolean', default: false },
  },
});

/** What the engine made of one tier's stream, per alert, and what the miner reads of it. */
type EngineAnswer = {
  truth: AlertTruth[];
  /** The predicted incident of each alert (the one most of its deliveries went to). */
  incidents: (string | null)[];
  rootCauses: [string, string[]][];
  miner: {
    incidents: RecurrenceIncident[];
    classCis: [string, number][];
    anchors: [string, CiAnchor[]][];
  };
};

async function answer(tier: Tier, seed: string): Promise<EngineAnswer> {
  const file = args.cache === undefined ? null : join(args.cache, `${tier.name}-${seed}.json`);
  if (file !== null && existsSync(file))
    return JSON.parse(readFileSync(file, 'utf8')) as EngineAnswer;
  const engine = await createCorrelationEngine(tier.cmdb, {});
  const stream = materialize(tier);
  for (const delivery of stream.deliveries) engine.push(delivery);
  engine.flush();
  const result = engine.result();
  const { truth } = stream;
  const incidents = alertIncidents(stream, result.incidentOf);
  const input = minerInput(result, tier.cmdb);
  const kept: EngineAnswer = {
    truth,
    incidents,
    rootCauses: result.incidents.map((i) => [i.id, i.rootCause.map((c) => c.ci)]),
    miner: {
      incidents: input.incidents,
      classCis: [...input.classCis],
      anchors: [...input.anchors],
    },
  };
  if (file !== null) {
    mkdirSync(args.cache!, { recursive: true });
    writeFileSync(file, JSON.stringify(kept));
  }
  return kept;
}

const settings: PatternSettings = {
  ...problemMiningDefaults,
  ...(JSON.parse(args['miner-config']) as Partial<PatternSettings>),
};

async function patternsOf(a: EngineAnswer, o: PatternSettings): Promise<Pattern[]> {
  return recurringPatterns(
    a.miner.incidents,
    await createTemplateIndex(),
    new Map(a.miner.classCis),
    new Map(a.miner.anchors),
    o,
  );
}

const pairs = (n: number) => (n * (n - 1)) / 2;
const fmt = (x: number) => x.toFixed(3);

type Row = Record<string, number>;
const totals = new Map<string, Row>();
const add = (tier: string, key: string, n: number) => {
  const row = totals.get(tier) ?? {};
  row[key] = (row[key] ?? 0) + n;
  totals.set(tier, row);
};

const seeds = args.seeds.split(',').map((s) => s.trim());
for (const seed of seeds)
  for (const tier of tiersFromArgs({ ...args, seed }, args.tiers.split(','))) {
    const a = await answer(tier, seed);
    const patterns = await patternsOf(a, settings);
    const problems = new Map<string, string>();
    for (const p of patterns)
      for (const i of p.incidents) problems.set(i.number, `${p.scope}|${p.template}`);
    const prediction: AlertPrediction = {
      incidents: a.incidents,
      rootCauses: new Map(a.rootCauses),
      problems,
    };
    const match = matchIncidents(a.truth, a.incidents);
    const f1 = problemScores(a.truth, prediction, match);
    const cand = candidateScores(a.truth, prediction, match);
    // Every cluster with two occurrences or more, whatever its chance: why one was not proposed.
    const all = await patternsOf(a, {
      ...settings,
      minIncidents: 2,
      chance: Number.POSITIVE_INFINITY,
    });
    const clusterOf = new Map<string, Pattern>();
    for (const p of all) for (const i of p.incidents) clusterOf.set(i.number, p);
    const read = new Map(a.miner.incidents.map((i) => [i.number, i]));

    const trueRoot = new Map<string, string>();
    const trueProblem = new Map<string, string | null>();
    for (const t of a.truth)
      if (t.incident !== null) {
        trueRoot.set(t.incident, t.rootCause);
        trueProblem.set(t.incident, t.problem);
      }
    // The first thing that went wrong for one true incident of a problem.
    const stage = (incident: string): string => {
      const p = match.get(incident);
      if (p === undefined) return '1 no predicted incident';
      const r = read.get(p);
      if (r === undefined) return '2 not read by the miner';
      if (r.rootCauseCi !== trueRoot.get(incident)) return '3 wrong root cause';
      return 'ok';
    };
    const label = (incident: string) => {
      const p = match.get(incident);
      return p === undefined ? undefined : problems.get(p);
    };
    const byProblem = new Map<string, string[]>();
    for (const [incident, problem] of trueProblem)
      if (problem !== null) byProblem.set(problem, [...(byProblem.get(problem) ?? []), incident]);
    let truePairs = 0;
    let together = 0;
    for (const [problem, incidents] of byProblem) {
      truePairs += pairs(incidents.length);
      const lines: string[] = [];
      for (let x = 0; x < incidents.length; x++)
        for (let y = x + 1; y < incidents.length; y++) {
          const i = incidents[x]!;
          const j = incidents[y]!;
          const li = label(i);
          if (li !== undefined && li === label(j)) {
            together++;
            continue;
          }
          const si = stage(i);
          const sj = stage(j);
          let why = si < sj ? si : sj;
          if (si === 'ok' && sj === 'ok') {
            const ci = clusterOf.get(match.get(i)!);
            const cj = clusterOf.get(match.get(j)!);
            if (match.get(i) === match.get(j)) why = '4 one predicted incident, in no problem';
            else if (ci === undefined || cj === undefined || ci !== cj)
              why = '5 different template clusters';
            else if (ci.occurrences < settings.minIncidents)
              why = `6 too few occurrences (${ci.occurrences})`;
            else why = '7 cluster not proposed (chance)';
          } else if (si === 'ok' || sj === 'ok') why = `${why}`;
          add(tier.name, `missed: ${why.replace(/ \(\d+\)$/, '')}`, 1);
          lines.push(`${i}~${j}: ${why}`);
        }
      if (args.list && lines.length > 0) {
        console.log(`  ${tier.name}${seed} ${problem} (${incidents.length} incidents):`);
        for (const i of incidents) {
          const p = match.get(i);
          const r = p === undefined ? undefined : read.get(p);
          const c = p === undefined ? undefined : clusterOf.get(p);
          console.log(
            `    ${i} root ${trueRoot.get(i)} → ${p ?? '-'} root ${r?.rootCauseCi ?? '-'} ` +
              `"${r?.template ?? ''}" alerts ${r?.alertCount ?? 0} ${label(i) ? 'IN ' + label(i) : ''}` +
              (c && !label(i)
                ? ` [cluster k=${c.occurrences} kc=${c.corroborated} chance ${c.chance?.toPrecision(2)} ${c.test}]`
                : ''),
          );
        }
      }
    }
    if (args.list) {
      // Candidates with no alert of a true problem: what a problem manager would reject.
      const composition = new Map<string, Map<string, number>>();
      for (const [k, t] of a.truth.entries()) {
        const p = a.incidents[k];
        if (p == null) continue;
        const c = composition.get(p) ?? new Map<string, number>();
        composition.set(p, c);
        const key = t.incident === null ? 'noise' : t.problem !== null ? 'P' : 'one-off';
        c.set(key, (c.get(key) ?? 0) + 1);
      }
      for (const p of patterns) {
        const parts = p.incidents.map(
          (i) => composition.get(i.number) ?? new Map<string, number>(),
        );
        if (parts.some((c) => c.has('P'))) continue;
        console.log(
          `  ${tier.name}${seed} FALSE ${p.scope}|${p.template.slice(0, 60)} k=${p.occurrences} kc=${p.corroborated} ${p.test} ${p.chance?.toPrecision(2)} peers ${p.peers}: ` +
            p.incidents
              .map((i, n) => `${i.number}[${[...parts[n]!].map(([k, v]) => `${k}${v}`).join(' ')}]`)
              .join(' '),
        );
      }
    }
    // False pairs: true incidents predicted in one problem, not of one true problem.
    const members = new Map<string, string[]>();
    for (const incident of trueProblem.keys()) {
      const l = label(incident);
      if (l !== undefined) members.set(l, [...(members.get(l) ?? []), incident]);
    }
    let predictedPairs = 0;
    for (const [l, incidents] of members) {
      predictedPairs += pairs(incidents.length);
      const counts = new Map<string, number>();
      for (const i of incidents) {
        const key = trueProblem.get(i) ?? `one-off ${i}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      let right = 0;
      for (const n of counts.values()) right += pairs(n);
      const wrong = pairs(incidents.length) - right;
      if (wrong === 0) continue;
      const real = [...counts.keys()].filter((k) => !k.startsWith('one-off')).length;
      const kind =
        real === 0 ? 'no true problem' : real === 1 ? 'one problem + others' : 'several problems';
      add(tier.name, `false: ${kind}`, wrong);
      if (args.list)
        console.log(
          `  ${tier.name}${seed} false pairs ${wrong} in ${l}: ${[...counts].map(([k, n]) => `${k}×${n}`).join(', ')}`,
        );
    }
    add(tier.name, 'true pairs', truePairs);
    add(tier.name, 'together', together);
    add(tier.name, 'predicted pairs', predictedPairs);
    add(tier.name, 'runs', 1);
    add(tier.name, 'problem F1', f1.f1);
    add(tier.name, 'candidates', cand.proposed);
    add(tier.name, 'false share', cand.falseShare);
    console.log(
      `${tier.name} seed ${seed}: problem F1 ${fmt(f1.f1)} (P ${fmt(f1.precision)}, R ${fmt(f1.recall)}); ` +
        `${cand.proposed} candidates, ${(100 * cand.falseShare).toFixed(0)}% false; ` +
        `true pairs ${truePairs}, found ${together}, predicted ${predictedPairs}`,
    );
  }

for (const [tier, row] of totals) {
  const runs = row.runs!;
  console.log(
    `\ntier ${tier} over ${runs} seeds: problem F1 ${fmt(row['problem F1']! / runs)}, ` +
      `${(row.candidates! / runs).toFixed(1)} candidates, ${((100 * row['false share']!) / runs).toFixed(1)}% false`,
  );
  for (const [key, n] of Object.entries(row).sort())
    if (key.startsWith('missed') || key.startsWith('false:'))
      console.log(
        `  ${key.padEnd(48)} ${String(n).padStart(5)} pairs (${((100 * n) / (key.startsWith('missed') ? row['true pairs']! : row['predicted pairs']!)).toFixed(1)}%)`,
      );
}
