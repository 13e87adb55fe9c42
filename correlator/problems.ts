/**
 * Candidate problems mined from recurring incidents. Over the incidents opened within a look-back
 * (not linked to a problem, not merged or canceled), a pattern is a failure that comes back:
 *
 * - a CI pattern: one root-cause CI, and dominant templates that are the same failure (text
 *   similarity at least `textThreshold`, single-link, so two tools' wordings count once; or one
 *   incident's root-cause CI also raised the other's, so a failure whose loudest symptom
 *   differed from one time to the next counts once);
 * - a class pattern: the same failure recurring on each of at least `classMinCis` CIs of one CMDB
 *   class that share a CI in the CMDB, their anchor (crash loops on 4 instances of one
 *   application, "disk full" on 4 VMs of one storage array), made only of what no CI pattern took.
 *
 * Recurrence is counted in occurrences, not incidents: an incident opened within `quietMinutes`
 * of the last alert of the one before it is the same occurrence going on (a re-fire, or an
 * incident the correlator split), not the failure coming back. A pattern needs `minIncidents`
 * occurrences, and must be unlikely to be chance. The peers of a CI are the CIs of its class; the
 * null hypothesis is that the class's occurrences of this failure (its "like" occurrences:
 * templates similar to the pattern's) fell on its CIs at random, each CI as likely as any other.
 *
 * - A CI pattern is proposed when the expected number of CIs of the class with as many
 *   occurrences by chance, n·P(Binomial(N, 1/n) ≥ k), is at most `chance` (n CIs, N like
 *   occurrences, k on this CI). A common failure on a big class (high CPU on 1,200 VMs) needs
 *   many more occurrences on one CI than a rare one. A CI without a class has no peers to compare
 *   with: the minimum count alone decides.
 * - Each CI pattern is weighed twice: over all its occurrences, and over its corroborated ones
 *   alone, against the class's corroborated occurrences of the failure. An occurrence is
 *   corroborated when more than one alert reported it (a second monitor, a second symptom, a CI
 *   that depends on it), over all its incidents: a failure whose second symptom the correlator put
 *   in an incident of its own minutes later was still reported twice (an alert firing again in
 *   the same words was not). A failure seen, not one threshold crossed once. Lone alerts are most
 *   of what an estate emits, so where a wording is common across a class, three lone "high CPU"
 *   on one VM are its normal, while three failures several alerts reported, which no other VM
 *   had, are not. A lone alert that comes back far more often than on its peers (a flaky disk
 *   alert every day) still passes the first test.
 * - And once more over when its occurrences began: a failure that begins at about the same time
 *   of day (within `scheduleMinutes`) on `minIncidents` days or more has a scheduled cause (a
 *   batch job, a backup, a report), however common the failure is on its class. The null is that
 *   the CI's occurrences fall at the times of day the class's other occurrences of it fall at;
 *   the chance is that of so many days lining up (summed over which occurrence the others line
 *   up with), plus the chance of each other CI of the class with at least as many like
 *   occurrences lining up as many days by its own (no more than this CI's): the expected number
 *   of CIs with a schedule as long and as unlikely. The evidence names the time of day and the
 *   days.
 * - And over the lone and the corroborated occurrences together: the first two tests each look
 *   at one count, so a CI with somewhat more lone alerts of a failure than its peers and somewhat
 *   more corroborated ones, neither enough alone, passes neither. Under the null its lone and
 *   corroborated like occurrences are independent Poisson counts at the class's rates; how far
 *   both exceed them is their likelihood-ratio deviance, and the chance is that of a deviance as
 *   large (exact, summed over the counts), times the CIs of the class. As the first test, it is
 *   never below the same chance among the CIs that had the failure at all, at the rates those
 *   other CIs had it (repeatJointChance): a wording only some CIs can raise (an application's own
 *   log text) is weighed against them, not against a class most of which cannot raise it.
 * - And over the counts and the schedule together: under the null, how many like occurrences fell
 *   on the CI and when in the day they began are independent, so the CI's own chance of as many
 *   occurrences and its own chance of as many days lining up given them (the schedule's, before
 *   correcting for its peers) combine by Fisher's method, p(1 − ln p) for their product p; times
 *   the CIs of the class, any of which could have shown both. The chance of the occurrences is
 *   that of the lone and the corroborated ones together (the joint test's, per CI of the class),
 *   which weighs what the count test weighs and what corroboration adds; the count test's where
 *   the class has no corroborated occurrence of the failure to weigh them against. One of the two,
 *   never the smaller: each extra test taken is one more chance for chance. A scheduled failure
 *   on a CI that also has it more often, or more often corroborated, than its peers passes.
 * - The pattern's chance is the smallest of these, and its evidence names the test that gave it.
 * - A class pattern needs a common cause, and the CMDB is where one can be seen: CIs of a class
 *   that share nothing (any 4 of 1,200 VMs) are separate problems, or noise, however alike
 *   their wording; CIs next to one CI (a relationship either way: the application they are
 *   instances of, the host, switch, cluster or store they share) may fail for it. It is proposed
 *   when the anchor's CIs got more of the class's like occurrences than chance would give them:
 *   N occurrences placed at random on the d CIs that had the failure at all, the s of them next
 *   to the anchor getting this many or more, P(Binomial(N, s/d) ≥ m), times the anchors tested
 *   (every CI next to one that had it), at most `chance`. The null is over the CIs that had the
 *   failure, not the whole class: a wording only some CIs can raise (an application's own
 *   error text, a JVM's heap alert) says nothing about the others, and weighed against the whole
 *   class the instances of one application always look alike. Its evidence is the incidents of
 *   the anchor's CIs that recur, so a fleet of one-offs (one alert on each of 500 app instances)
 *   is not a problem, nor does it hide a CI that really recurs.
 *
 * Its signature is `ci:<name>|<template>` or `class:<class>@<anchor>|<template>`, with the cluster's
 * representative template (most incidents, then the earliest, then the first in code-point order),
 * so mining twice proposes nothing new. A pattern that already is a problem in any state — one of
 * its templates' signatures, or its scope with one of its templates in the evidence — is never
 * proposed again: a candidate's evidence takes the new incidents; a rejected (or accepted) problem
 * is left alone. Accepting a candidate links its evidence's incidents (services/api/problems.ts).
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { lockKeys, withTransaction, type Pool, type Queryable } from '../services/store/db.ts';
import {
  ciAnchors,
  classSizes,
  insertCandidateProblem,
  problemsOfPattern,
  recurrenceIncidents,
  recurrenceIncidentsById,
  updateCandidateEvidence,
  type CandidateProblem,
  type CiAnchor,
  type PatternProblem,
  type RecurrenceIncident,
} from '../services/store/problem-candidates.ts';
import { setActor } from '../services/store/tickets.ts';
import { matrixPriority, type PriorityMatrix } from '../services/store/workflows.ts';
import type { TemplateIndex } from './similarity.ts';
import { toTemplate } from './templates.ts';

/** How the miner groups incidents; see the module comment. */
export type ProblemMiningSettings = {
  /** Incidents opened this many days back are read (TOCSIN_PROBLEM_LOOKBACK_DAYS). */
  lookbackDays: number;
  /** Incidents a pattern needs to recur (TOCSIN_PROBLEM_MIN_INCIDENTS). */
  minIncidents: number;
  /** The priority a candidate gets from its impact and urgency (TOCSIN_PRIORITY_MATRIX). */
  priorityMatrix: PriorityMatrix;
  /** Distinct CIs a class pattern needs. Default 3. */
  classMinCis?: number;
  /** Cosine similarity at which two templates are one failure. Default 0.6. */
  textThreshold?: number;
  /** An incident opened within this long of its pattern's last alert is the same occurrence. */
  quietMinutes?: number;
  /** How many patterns like it chance may make before one is not proposed. Default 0.05. */
  chance?: number;
  /** Occurrences this close in time of day line up (a scheduled cause); 0: not looked for. */
  scheduleMinutes?: number;
};

/**
 * The defaults: a month of incidents, three occurrences make a pattern, a class pattern spans
 * three CIs, and templates are one failure at the correlation engine's text-candidate threshold
 * (0.6: "disk <pct> full on <ci>" and "disk usage on <ci> is <pct> full" score 0.76; a disk and
 * a CPU alert on one CI 0.23). An hour without an alert ends an occurrence: longer than the
 * correlator's window and re-fire grace (15 minutes), shorter than any daily job. Chance 0.05 is
 * the usual significance level, here as the expected number of chance patterns per pattern tested.
 */
export const problemMiningDefaults = {
  lookbackDays: 30,
  minIncidents: 3,
  classMinCis: 3,
  textThreshold: 0.6,
  quietMinutes: 60,
  chance: 0.05,
  scheduleMinutes: 30,
} as const;

// A candidate waits for a person's review: medium impact, low urgency (priority 4 by default).
const CANDIDATE_IMPACT = 2;
const CANDIDATE_URGENCY = 3;
const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_TITLE_TEMPLATE = 900;

/** Whether a pattern happens more often lately: the later half of the look-back vs the earlier. */
export type Trend = {
  direction: 'rising' | 'steady' | 'falling';
  /** Incidents in the earlier half of the look-back. */
  earlier: number;
  /** Incidents in the later half (up to now). */
  later: number;
  /** Where the halves meet. */
  splitAt: string;
};

/** One incident of a pattern, as its evidence lists it. */
export type EvidenceIncident = {
  id: string;
  number: string;
  openedAt: string;
  ci: string;
  template: string;
};

/** A candidate problem's evidence (problems.evidence): why the miner proposed it. */
export type ProblemEvidence = {
  kind: 'ci' | 'class';
  /** `ci:<name>` or `class:<class>`: what the signature is about. */
  scope: string;
  ci: string | null;
  class: string | null;
  /** A class pattern's CI in common (see the module comment); null for a CI pattern. */
  anchor: string | null;
  /** The representative template, as in the signature. */
  template: string;
  /** Every template of the cluster, so a drifted wording still finds this problem. */
  templates: string[];
  cis: string[];
  incidents: EvidenceIncident[];
  count: number;
  /** Occurrences: incidents more than `quietMinutes` apart (see the module comment). */
  occurrences: number;
  /** Occurrences of them that more than one alert reported (see the module comment). */
  corroborated: number;
  /** The time of day it keeps coming back at, when that is what made it unlikely by chance. */
  schedule: Schedule | null;
  /** CIs of the class (a class pattern: of the class, next to its anchor); null: no class. */
  peers: number | null;
  /** Patterns like this one that chance alone would make (see the module comment); null: no peers. */
  chance: number | null;
  /** The test that gave `chance` (see the module comment); null: no peers. */
  test: PatternTest | null;
  firstAt: string;
  lastAt: string;
  lookbackDays: number;
  /** Incidents within the look-back. */
  inLookback: number;
  /** Incidents per week within the look-back. */
  perWeek: number;
  trend: Trend;
  minedAt: string;
};

/** What the miner did with one pattern. */
export type MinedPattern = {
  signature: string;
  kind: 'ci' | 'class';
  /** proposed: a new candidate; updated: a candidate took new incidents; unchanged: nothing new;
   * held: the pattern is a problem in another state (rejected, accepted…), left alone. */
  outcome: 'proposed' | 'updated' | 'unchanged' | 'held';
  problemId: string;
  problemNumber: string;
  state: string;
  title: string;
  count: number;
  trend: Trend;
};

/** One mining run: the look-back read and each recurring pattern's outcome. */
export type MiningResult = {
  since: string;
  until: string;
  incidentsRead: number;
  patterns: MinedPattern[];
};

/** The miner's tests: how a pattern was found unlikely to be chance (see the module comment). */
export type PatternTest =
  | 'count'
  | 'corroborated'
  | 'lone and corroborated'
  | 'schedule'
  | 'count and schedule'
  | 'counts and schedule'
  | 'anchor';

/** A recurring pattern: its scope, its failure's templates, its incidents and why it is one. */
export type Pattern = {
  kind: 'ci' | 'class';
  /** The CI name or the class name. */
  value: string;
  /** A class pattern's CI in common: the CMDB neighbour its CIs share. */
  anchor: string | null;
  scope: string;
  template: string;
  templates: string[];
  incidents: RecurrenceIncident[];
  occurrences: number;
  corroborated: number;
  /** When it began at about the same time of day on at least `minIncidents` days. */
  schedule: Schedule | null;
  peers: number | null;
  chance: number | null;
  test: PatternTest | null;
};

/** What recurringPatterns() needs of the settings. */
export type PatternSettings = Pick<
  Required<ProblemMiningSettings>,
  'minIncidents' | 'classMinCis' | 'textThreshold' | 'quietMinutes' | 'chance' | 'scheduleMinutes'
>;

/**
 * Mines the incidents of the look-back ending at `now` for recurring patterns, proposes each new
 * one as a candidate problem and adds new incidents to existing candidates, in one transaction
 * under an advisory lock (the CLI and a worker never mine at once).
 */
export async function mineProblems(
  pool: Pool,
  settings: ProblemMiningSettings,
  now: Date = new Date(),
): Promise<MiningResult> {
  const options = { ...problemMiningDefaults, ...settings };
  if (
    !(options.lookbackDays > 0) ||
    !(options.minIncidents >= 2) ||
    !(options.quietMinutes >= 0) ||
    !(options.chance > 0)
  )
    throw new RangeError(
      'problem mining needs lookbackDays > 0, minIncidents >= 2, quietMinutes >= 0 and chance > 0',
    );
  const since = new Date(now.getTime() - options.lookbackDays * DAY_MS);
  // Read in one snapshot, searched outside any transaction (the search takes seconds to a minute
  // on a month of a noisy estate: a transaction open that long holds back the cleanup of the
  // inbox and outbox, which the pipeline churns through), then settled under the lock, which
  // reads what problems exist as it settles.
  const { incidents, classCis, anchors } = await withTransaction(pool, async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const incidents = await recurrenceIncidents(tx, since, now);
    const cis = [...new Set(incidents.map((i) => i.rootCauseCi))];
    return { incidents, classCis: await classSizes(tx), anchors: await ciAnchors(tx, cis) };
  });
  const found = await searchInThread({ incidents, classCis, anchors, settings: options });
  return withTransaction(pool, async (tx) => {
    await lockKeys(tx, ['problem.mine']);
    await setActor(tx, 'correlator', 'propose');
    const patterns: MinedPattern[] = [];
    for (const pattern of found) patterns.push(await settle(tx, pattern, options, now));
    return {
      since: since.toISOString(),
      until: now.toISOString(),
      incidentsRead: incidents.length,
      patterns,
    };
  });
}

/**
 * Settles one pattern against the problems it may already be: adds its new incidents to a
 * candidate, leaves a problem in any other state alone, or proposes a new candidate.
 */
async function settle(
  tx: Queryable,
  pattern: Pattern,
  options: Required<ProblemMiningSettings>,
  now: Date,
): Promise<MinedPattern> {
  const existing = await problemsOf(tx, pattern);
  const candidate = existing.find((p) => p.state === 'candidate');
  if (candidate) {
    const old = evidenceOf(candidate.evidence);
    const oldIds = old.incidents.map((i) => i.id);
    const union = [...new Set([...oldIds, ...pattern.incidents.map((i) => i.id)])];
    const rows = await recurrenceIncidentsById(tx, union);
    const template = old.template ?? pattern.template;
    const templates = [
      ...new Set([...old.templates, ...pattern.templates, ...rows.map((r) => r.template)]),
    ].sort();
    const proposal = candidateOf(
      {
        ...pattern,
        template,
        templates,
        incidents: rows,
        occurrences: occurrences(rows, options.quietMinutes * 60_000, pattern.kind === 'class'),
        corroborated: corroboratedOccurrences(
          rows,
          options.quietMinutes * 60_000,
          pattern.kind === 'class',
        ),
      },
      options,
      now,
    );
    const changed = !sameIds(
      oldIds,
      rows.map((r) => r.id),
    );
    if (changed) await updateCandidateEvidence(tx, candidate.id, proposal);
    return {
      signature: candidate.signature ?? proposal.signature,
      kind: pattern.kind,
      outcome: changed ? 'updated' : 'unchanged',
      problemId: candidate.id,
      problemNumber: candidate.number,
      state: candidate.state,
      title: proposal.title,
      count: rows.length,
      trend: proposal.evidence.trend,
    };
  }
  const proposal = candidateOf(pattern, options, now);
  const inserted = existing.length === 0 ? await insertCandidateProblem(tx, proposal) : null;
  if (inserted) {
    return {
      signature: proposal.signature,
      kind: pattern.kind,
      outcome: 'proposed',
      problemId: inserted.id,
      problemNumber: inserted.number,
      state: 'candidate',
      title: proposal.title,
      count: pattern.incidents.length,
      trend: proposal.evidence.trend,
    };
  }
  // A rejected one first: it is the reason the pattern is not proposed again.
  const held =
    existing.find((p) => p.state === 'rejected') ??
    existing[0] ??
    (await problemsOf(tx, pattern))[0];
  if (!held) throw new Error(`problem of signature ${proposal.signature} vanished`);
  return {
    signature: held.signature ?? proposal.signature,
    kind: pattern.kind,
    outcome: 'held',
    problemId: held.id,
    problemNumber: held.number,
    state: held.state,
    title: proposal.title,
    count: pattern.incidents.length,
    trend: proposal.evidence.trend,
  };
}

/** The `problem.mine` job: mines once and logs what it proposed; returns the candidates touched. */
export async function runProblemMining(
  pool: Pool,
  settings: ProblemMiningSettings,
  log: Logger,
): Promise<number> {
  const started = performance.now();
  const result = await mineProblems(pool, settings);
  const touched = result.patterns.filter(
    (p) => p.outcome === 'proposed' || p.outcome === 'updated',
  );
  log.info(
    {
      incidents: result.incidentsRead,
      patterns: result.patterns.length,
      touched: touched.length,
      seconds: Math.round(performance.now() - started) / 1000,
    },
    'problem mining: done',
  );
  for (const p of touched)
    log.info(
      { problem: p.problemNumber, signature: p.signature, incidents: p.count, outcome: p.outcome },
      'problem mining: candidate problem',
    );
  return touched.length;
}

/** What the pattern search reads: recurringPatterns' arguments but the index. */
export type SearchInput = {
  incidents: readonly RecurrenceIncident[];
  classCis: ReadonlyMap<string, number>;
  anchors: ReadonlyMap<string, readonly CiAnchor[]>;
  settings: PatternSettings;
};

/** Incidents per message to the mining thread: each copy keeps the event loop a few ms. */
const INCIDENTS_PER_MESSAGE = 4096;

/**
 * recurringPatterns on a worker thread of its own (correlator/mining-thread.ts): the search, up
 * to half a minute of CPU on a month of a noisy estate, then runs beside the process's event loop
 * rather than in turns on it (the process may be the one correlating). The incidents go across
 * in chunks, with a turn between them, and the patterns come back in chunks: a copy of everything
 * at once kept the loop 200 ms on 160,000 incidents. The thread loads TypeScript as the process
 * does, through tsx.
 */
export async function searchInThread(input: SearchInput): Promise<Pattern[]> {
  const tsx = import.meta.resolve('tsx/esm/api');
  const thread = new URL('./mining-thread.ts', import.meta.url).href;
  const entry = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(thread)});`;
  const { incidents, ...rest } = input;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(entry)}`), {
    workerData: rest,
  });
  const found: Pattern[] = [];
  const done = new Promise<Pattern[]>((resolve, reject) => {
    worker.on('message', (part: Pattern[] | null) => {
      if (part === null) resolve(found);
      else for (const pattern of part) found.push(pattern);
    });
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`the problem mining thread ended (exit code ${code}) without patterns`)),
    );
  });
  // Seen when awaited below; a failure while the input is still going across is not unhandled.
  done.catch(() => {});
  try {
    for (let i = 0; i < incidents.length; i += INCIDENTS_PER_MESSAGE) {
      worker.postMessage(incidents.slice(i, i + INCIDENTS_PER_MESSAGE));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    worker.postMessage(null);
    return await done;
  } finally {
    await worker.terminate();
  }
}

/** How long the search runs before it gives the event loop a turn (see pauses). */
const SLICE_MS = 10;

/**
 * Turns for the rest of the process: each call returns at once until `sliceMs` have passed since
 * the last turn, then waits for one (setImmediate: after pending I/O). For a search run on a
 * process's event loop (the bench's in-process mode; the miner runs it on a thread of its own,
 * see searchInThread), whose other work would otherwise wait for all of it (seconds to a minute
 * on a month of a noisy estate).
 */
function pauses(sliceMs: number): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    since = performance.now();
  };
}

/**
 * The index's add() remembered per template for one mining run: add() masks its text again on
 * every call, and the miner asks for the same few thousand templates hundreds of thousands of
 * times. An id the index has evicted since (past its maxTemplates) is added again, as add() would.
 */
function rememberIds(index: TemplateIndex): (template: string) => number {
  const ids = new Map<string, number>();
  return (template) => {
    const known = ids.get(template);
    if (known !== undefined && index.has(known)) return known;
    const id = index.add(template);
    ids.set(template, id);
    return id;
  };
}

/** Groups incidents by a key, keeping their order. */
function groupBy<K>(
  items: readonly RecurrenceIncident[],
  key: (i: RecurrenceIncident) => K | null,
) {
  const groups = new Map<K, RecurrenceIncident[]>();
  for (const item of items) {
    const k = key(item);
    if (k !== null) append(groups, k, item);
  }
  return groups;
}

/** Adds a value to its key's list. */
function append<K, V>(lists: Map<K, V[]>, key: K, value: V): void {
  const list = lists.get(key);
  if (list) list.push(value);
  else lists.set(key, [value]);
}

/**
 * Clusters the incidents of one scope by template (single-link at `threshold`): two dominant
 * templates are one failure when they are alike, or when an incident of one had an alert alike
 * the other on its root-cause CI. Names each cluster by its representative: most incidents, then
 * earliest, then code-point order.
 */
export function clusterByTemplate(
  incidents: readonly RecurrenceIncident[],
  index: TemplateIndex,
  threshold: number,
  idOf: (template: string) => number,
): { template: string; templates: string[]; incidents: RecurrenceIncident[] }[] {
  const byTemplate = groupBy(incidents, (i) => i.template);
  const templates = [...byTemplate.keys()].sort();
  const ids = templates.map(idOf);
  const parent = templates.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (let a = 0; a < templates.length; a++)
    for (let b = a + 1; b < templates.length; b++)
      if (index.similarity(ids[a]!, ids[b]!) >= threshold) parent[root(b)] = root(a);
  // What one incident mostly says, another said too (among its root-cause CI's other alerts):
  // one failure whose loudest symptom differed (a thread pool exhausted, then the latency it made).
  const position = new Map(templates.map((t, i) => [t, i]));
  for (const incident of incidents) {
    const own = position.get(incident.template)!;
    for (const other of incident.templates) {
      if (other === incident.template) continue;
      const id = idOf(other);
      for (let b = 0; b < templates.length; b++)
        if (id === ids[b] || index.similarity(id, ids[b]!) >= threshold)
          parent[root(b)] = root(own);
    }
  }
  const clusters = new Map<number, string[]>();
  templates.forEach((t, i) => append(clusters, root(i), t));
  return [...clusters.values()].map((members) => {
    const rank = members
      .map((t) => ({ t, rows: byTemplate.get(t)! }))
      .sort(
        (x, y) =>
          y.rows.length - x.rows.length ||
          x.rows[0]!.openedAt.localeCompare(y.rows[0]!.openedAt) ||
          (x.t < y.t ? -1 : 1),
      );
    const rows = members.flatMap((t) => byTemplate.get(t)!);
    rows.sort((x, y) => x.openedAt.localeCompare(y.openedAt) || Number(x.id) - Number(y.id));
    return { template: rank[0]!.t, templates: members, incidents: rows };
  });
}

/**
 * The recurring patterns among the incidents, as the module comment defines them: CI patterns
 * first (by CI name), then class patterns made of what they left (by class name). Pure: the live
 * miner and the bench's in-process mode run the same rule. It gives the event loop a turn every
 * `sliceMs` of work (see pauses), which changes nothing it finds.
 */
export async function recurringPatterns(
  incidents: readonly RecurrenceIncident[],
  index: TemplateIndex,
  classCis: ReadonlyMap<string, number>,
  anchors: ReadonlyMap<string, readonly CiAnchor[]>,
  o: PatternSettings,
  sliceMs = SLICE_MS,
): Promise<Pattern[]> {
  const pause = pauses(sliceMs);
  const quietMs = o.quietMinutes * 60_000;
  const all = new Set(incidents.flatMap((i) => [i.template, ...i.templates]));
  const idOf = rememberIds(index);
  for (const template of [...all].sort()) {
    idOf(template);
    await pause();
  }
  const peers = await createPeers(
    incidents,
    index,
    idOf,
    classCis,
    o.textThreshold,
    quietMs,
    pause,
  );

  // Each class's like occurrences, prepared once for the schedule test of each of its CIs.
  const schedules = new WeakMap<Like, ScheduleBasis>();
  const scheduleOf = (like: Like) => {
    let basis = schedules.get(like);
    if (basis === undefined) {
      basis = scheduleBasis(like.starts, o.scheduleMinutes * 60_000);
      schedules.set(like, basis);
    }
    return basis;
  };

  const found: Pattern[] = [];
  const left = new Map<string, Candidate[]>();
  const byCi = groupBy(incidents, (i) => i.rootCauseCi);
  for (const ci of [...byCi.keys()].sort()) {
    await pause();
    const rows = byCi.get(ci)!;
    const ciClass = rows[0]!.ciClass;
    for (const cluster of clusterByTemplate(rows, index, o.textThreshold, idOf)) {
      await pause();
      const k = occurrences(cluster.incidents, quietMs);
      if (k < o.minIncidents) continue;
      const likes = ciClass === null ? null : await peers.like(ciClass, cluster.templates);
      const like = likes?.all ?? null;
      // P(a given CI has k or more of the class's N like occurrences), were they placed at random.
      const tail = like === null ? null : binomialTail(like.total, 1 / like.cis, k);
      // Expected CIs of the class that would show as many by chance: placed on any CI of the
      // class, or (a template only some CIs can raise) at the rate its other CIs repeat it.
      const all =
        like === null || tail === null
          ? null
          : Math.max(like.cis * tail, repeatChance(like.counts, ci, k));
      // The same test over the corroborated occurrences alone: there, chance is the background
      // of failures more than one alert reported, not of every lone threshold crossing.
      const kc = corroboratedOccurrences(cluster.incidents, quietMs);
      const likeC = likes?.corroborated ?? null;
      const seen =
        likeC === null || kc < 2
          ? null
          : Math.max(
              likeC.cis * binomialTail(likeC.total, 1 / likeC.cis, kc),
              repeatChance(likeC.counts, ci, kc),
            );
      // The same failure beginning at about the same time of day on several days: a scheduled
      // cause (a batch job, a backup, a report) however common the failure is on its class.
      // Weighed only when it lines up minIncidents days: the class is not prepared for less.
      const starts = occurrenceStarts(cluster.incidents, quietMs);
      const schedule =
        like === null ||
        o.scheduleMinutes <= 0 ||
        linedDays(starts, o.scheduleMinutes * 60_000).days < o.minIncidents
          ? null
          : scheduleOf(like).chance(starts, ci);
      const weighed = schedule !== null && schedule.days >= o.minIncidents;
      const timed = weighed ? schedule.chance : null;
      // Lone and corroborated occurrences together (see the module comment and jointChance()).
      const together =
        like === null || likeC === null
          ? null
          : Math.max(
              like.cis *
                jointChance(
                  k - kc,
                  kc,
                  (like.total - likeC.total) / like.cis,
                  likeC.total / likeC.cis,
                ),
              repeatJointChance(like.counts, likeC.counts, ci, k - kc, kc),
            );
      // The counts and the schedule together: the occurrences' chance per CI of the class (the
      // joint test's, else the count test's) and the schedule's own chance are independent under
      // the null; combined, times the CIs of the class.
      const counted: [PatternTest, number | null] =
        together !== null ? ['counts and schedule', together] : ['count and schedule', all];
      const withCount =
        !weighed || counted[1] === null || like === null
          ? null
          : like.cis * combinedChance(counted[1] / like.cis, schedule.own);
      const tests: [PatternTest, number | null][] = [
        ['count', all],
        ['corroborated', seen],
        ['lone and corroborated', together],
        ['schedule', timed],
        [counted[0], withCount],
      ];
      let test: PatternTest | null = null;
      let chance: number | null = null;
      for (const [name, value] of tests)
        if (all !== null && value !== null && (chance === null || value < chance)) {
          test = name;
          chance = value;
        }
      if (chance === null || chance <= o.chance) {
        found.push({
          kind: 'ci',
          value: ci,
          anchor: null,
          scope: `ci:${ci}`,
          ...cluster,
          occurrences: k,
          corroborated: kc,
          schedule: weighed ? { ...schedule, withCount } : null,
          peers: like?.cis ?? null,
          chance,
          test,
        });
      } else if (ciClass !== null && like !== null && tail! <= o.chance) {
        // Recurring, and unusual for one CI, not enough alone: material for a class pattern.
        append(left, ciClass, { ci, ...cluster });
      }
    }
  }

  for (const ciClass of [...left.keys()].sort())
    for (const group of await groupCandidates(
      left.get(ciClass)!,
      index,
      idOf,
      o.textThreshold,
      pause,
    )) {
      const templates = [...new Set(group.flatMap((c) => c.templates))].sort();
      const like = (await peers.like(ciClass, templates))?.all;
      if (like === undefined) continue;
      // Every CI next to a CI of the class that showed this failure is a common cause tested.
      const nextTo = (ci: string) => anchors.get(ci) ?? [];
      const tested = new Map<string, number>();
      for (const ci of like.counts.keys())
        for (const a of nextTo(ci)) tested.set(a.anchor, a.peers);
      const taken = new Set<string>();
      // Each anchor's members: the group's candidates next to it, in the group's order.
      const next = new Map<string, Candidate[]>();
      for (const c of group)
        for (const anchor of new Set(nextTo(c.ci).map((a) => a.anchor))) append(next, anchor, c);
      const options = [...tested.keys()].sort().map((anchor) => ({
        anchor,
        members: next.get(anchor) ?? [],
      }));
      options.sort((x, y) => y.members.length - x.members.length);
      for (const { anchor, members: all } of options) {
        await pause();
        const members = all.filter((c) => !taken.has(c.ci));
        const rows = members.flatMap((c) => c.incidents);
        if (members.length < o.classMinCis || occurrences(rows, quietMs, true) < o.minIncidents)
          continue;
        // The class's like occurrences placed at random on the CIs that had this failure at all
        // (a wording only some CIs can raise says nothing of the others): how likely is it that
        // those next to the anchor got this many or more, times the anchors tested?
        let near = 0;
        let seen = 0;
        for (const [ci, n] of like.counts)
          if (nextTo(ci).some((a) => a.anchor === anchor)) {
            near += n;
            seen++;
          }
        const share = seen / like.distinct;
        const chance = tested.size * binomialTail(like.total, share, near);
        if (share >= 1 || chance > o.chance) continue;
        for (const c of members) taken.add(c.ci);
        rows.sort((x, y) => x.openedAt.localeCompare(y.openedAt) || Number(x.id) - Number(y.id));
        found.push({
          kind: 'class',
          value: ciClass,
          anchor,
          scope: `class:${ciClass}@${anchor}`,
          template: representative(rows),
          templates: [...new Set(members.flatMap((c) => c.templates))].sort(),
          incidents: rows,
          occurrences: occurrences(rows, quietMs, true),
          corroborated: corroboratedOccurrences(rows, quietMs, true),
          schedule: null,
          peers: Math.max(tested.get(anchor)!, seen),
          chance,
          test: 'anchor',
        });
      }
    }
  return found;
}

/** A CI's cluster that did not make a CI pattern but recurs: a class pattern's material. */
type Candidate = {
  ci: string;
  template: string;
  templates: string[];
  incidents: RecurrenceIncident[];
};

/**
 * Occurrences of a failure: its incidents, oldest first, less those opened within `quietMs` of
 * the latest alert before them (on the same CI, when counted across CIs).
 */
export function occurrences(
  incidents: readonly RecurrenceIncident[],
  quietMs: number,
  perCi = false,
): number {
  return occurrenceStarts(incidents, quietMs, perCi).length;
}

/** When each occurrence of a failure began (epoch ms, oldest first); see occurrences(). */
export function occurrenceStarts(
  incidents: readonly RecurrenceIncident[],
  quietMs: number,
  perCi = false,
): number[] {
  return occurrenceSpans(incidents, quietMs, perCi).map((o) => o.start);
}

/**
 * Occurrences of a failure that more than one alert reported, over all the occurrence's incidents:
 * one of them had several alerts, or their root-cause CI's alerts say it in more than one wording
 * (the correlator put a failure's second symptom or second tool in an incident of its own, minutes
 * later). An alert firing again in a new incident says it once more in the same words: not a
 * second report.
 */
function corroboratedOccurrences(
  incidents: readonly RecurrenceIncident[],
  quietMs: number,
  perCi = false,
): number {
  return occurrenceSpans(incidents, quietMs, perCi).filter((o) => o.corroborated).length;
}

/** One occurrence of a failure: when it began, and whether more than one alert reported it. */
type Occurrence = { start: number; corroborated: boolean };

/**
 * When an incident opened and when its last alert came (never before it opened), epoch ms: parsed
 * once per incident, however many of the miner's counts read it.
 */
const instants = new WeakMap<RecurrenceIncident, { opened: number; ends: number }>();
function instantsOf(i: RecurrenceIncident): { opened: number; ends: number } {
  let known = instants.get(i);
  if (known === undefined) {
    const opened = Date.parse(i.openedAt);
    known = { opened, ends: Math.max(Date.parse(i.lastAlertAt) || opened, opened) };
    instants.set(i, known);
  }
  return known;
}

/** Each occurrence of a failure, oldest first (see occurrences() and corroboratedOccurrences()). */
function occurrenceSpans(
  incidents: readonly RecurrenceIncident[],
  quietMs: number,
  perCi: boolean,
): Occurrence[] {
  const lastOf = new Map<string, { at: number; occurrence: Occurrence; wordings: Set<string> }>();
  const spans: Occurrence[] = [];
  const timed = incidents.map((i) => ({ i, ...instantsOf(i) }));
  // Opened alike (ISO 8601 in UTC, as the store writes them): in order of the instant.
  timed.sort((x, y) => x.opened - y.opened);
  for (const { i, opened, ends } of timed) {
    const key = perCi ? i.rootCauseCi : '';
    const last = lastOf.get(key);
    if (last === undefined || opened - last.at > quietMs) {
      const occurrence = { start: opened, corroborated: i.alertCount > 1 };
      spans.push(occurrence);
      lastOf.set(key, { at: ends, occurrence, wordings: new Set(i.templates) });
    } else {
      for (const t of i.templates) last.wordings.add(t);
      last.occurrence.corroborated ||= i.alertCount > 1 || last.wordings.size > 1;
      last.at = Math.max(last.at, ends);
    }
  }
  return spans;
}

/** Like occurrences of a failure on the CIs of one class: how many, on how many CIs, of how many. */
type Like = {
  total: number;
  distinct: number;
  cis: number;
  /** Occurrences per CI that had any. */
  counts: ReadonlyMap<string, number>;
  /** When each of them began (epoch ms), per CI. */
  starts: ReadonlyMap<string, readonly number[]>;
};

/**
 * The peers of each class: its CIs (the CMDB's count, or those seen if more) and their incidents
 * by template, to count the occurrences of templates like a pattern's: all of them, and those
 * more than one alert reported (see corroboratedOccurrences). Null for a class of one.
 */
async function createPeers(
  incidents: readonly RecurrenceIncident[],
  index: TemplateIndex,
  idOf: (template: string) => number,
  classCis: ReadonlyMap<string, number>,
  threshold: number,
  quietMs: number,
  pause: () => Promise<void>,
) {
  type Peers = {
    cis: number;
    /** Per template id of the class: the CIs with an incident of it, in the order of its incidents. */
    cisOf: Map<number, Set<string>>;
    /** Per CI: its template ids (ascending) and its incidents with theirs. */
    ofCi: Map<string, { ids: number[]; rows: { i: RecurrenceIncident; id: number }[] }>;
    /** Per template id asked about: the class's template ids at least `threshold` similar. */
    near: Map<number, number[]>;
    /** Answers by the like templates' ids. */
    answers: Map<string, Likes>;
    /** A CI's occurrences of some of its templates, by those ids and the CI (see spansOf). */
    spans: Map<string, Occurrence[]>;
  };
  const classes = new Map<string, Peers>();
  for (const [n, i] of incidents.entries()) {
    if (n % 1024 === 0) await pause();
    if (i.ciClass === null) continue;
    const peers: Peers = classes.get(i.ciClass) ?? {
      cis: 0,
      cisOf: new Map(),
      ofCi: new Map(),
      near: new Map(),
      answers: new Map(),
      spans: new Map(),
    };
    classes.set(i.ciClass, peers);
    const id = idOf(i.template);
    const cis = peers.cisOf.get(id);
    if (cis) cis.add(i.rootCauseCi);
    else peers.cisOf.set(id, new Set([i.rootCauseCi]));
    const mine = peers.ofCi.get(i.rootCauseCi);
    if (mine === undefined) peers.ofCi.set(i.rootCauseCi, { ids: [id], rows: [{ i, id }] });
    else {
      if (!mine.ids.includes(id)) mine.ids.push(id);
      mine.rows.push({ i, id });
    }
  }
  for (const [name, peers] of classes) {
    peers.cis = Math.max(classCis.get(name) ?? 0, peers.ofCi.size);
    for (const mine of peers.ofCi.values()) mine.ids.sort((a, b) => a - b);
  }
  /**
   * A CI's occurrences of the like templates: those of its own templates that are like, which
   * many questions share (a CI raises a few templates; the like sets asked about are many).
   */
  const spansOf = (peers: Peers, ci: string, like: ReadonlySet<number>): Occurrence[] => {
    const mine = peers.ofCi.get(ci)!;
    const key = `${mine.ids.filter((id) => like.has(id)).join(',')}|${ci}`;
    let spans = peers.spans.get(key);
    if (spans === undefined) {
      const rows = mine.rows.filter((r) => like.has(r.id)).map((r) => r.i);
      spans = occurrenceSpans(rows, quietMs, false);
      peers.spans.set(key, spans);
    }
    return spans;
  };
  return {
    async like(ciClass: string, templates: readonly string[]): Promise<Likes | null> {
      const peers = classes.get(ciClass);
      if (peers === undefined || peers.cis < 2) return null;
      const like = new Set<number>();
      for (const template of templates) {
        const id = idOf(template);
        let near = peers.near.get(id);
        if (near === undefined) {
          near = [...peers.cisOf.keys()].filter(
            (other) => other === id || index.similarity(id, other) >= threshold,
          );
          peers.near.set(id, near);
        }
        for (const other of near) like.add(other);
      }
      const key = [...like].sort((a, b) => a - b).join(',');
      const known = peers.answers.get(key);
      if (known !== undefined) return known;
      // The CIs with a like incident, in the order of the like templates' incidents.
      const touched = new Set<string>();
      for (const id of like) for (const ci of peers.cisOf.get(id) ?? []) touched.add(ci);
      const answer = { all: likeOf(), corroborated: likeOf() };
      let visited = 0;
      for (const ci of touched) {
        // A like set may reach a thousand CIs of a class: turns between them too.
        if (++visited % 64 === 0) await pause();
        const spans = spansOf(peers, ci, like);
        const corroborated = spans.filter((span) => span.corroborated);
        if (spans.length > 0) count(answer.all, ci, spans);
        if (corroborated.length > 0) count(answer.corroborated, ci, corroborated);
      }
      for (const one of [answer.all, answer.corroborated]) {
        one.cis = peers.cis;
        one.distinct = one.counts.size;
      }
      peers.answers.set(key, answer);
      return answer;
    },
  };
}

/** Like occurrences of a failure: all of them, and those more than one alert reported. */
type Likes = { all: Like; corroborated: Like };

/** An empty Like, to count into. */
function likeOf(): Like & { counts: Map<string, number>; starts: Map<string, number[]> } {
  return { total: 0, distinct: 0, cis: 0, counts: new Map(), starts: new Map() };
}

/** Counts a CI's occurrences into a Like. */
function count(like: ReturnType<typeof likeOf>, ci: string, spans: readonly Occurrence[]): void {
  like.starts.set(
    ci,
    spans.map((span) => span.start),
  );
  like.counts.set(ci, spans.length);
  like.total += spans.length;
}

/** Groups candidates whose templates are one failure (single-link at `threshold`). */
async function groupCandidates(
  candidates: readonly Candidate[],
  index: TemplateIndex,
  idOf: (template: string) => number,
  threshold: number,
  pause: () => Promise<void>,
): Promise<Candidate[][]> {
  // Two candidates are linked when a template of one is, or is like, a template of the other: the
  // templates are linked by likeness and through the candidates that have them, and candidates
  // go together when their templates do. Compared per distinct template, not per pair of
  // candidates (thousands on a noisy class, sharing a few hundred templates).
  const ids = candidates.map((c) => c.templates.map(idOf));
  const distinct = [...new Set(ids.flat())];
  const slot = new Map(distinct.map((id, i) => [id, i]));
  const parent = distinct.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (let a = 0; a < distinct.length; a++) {
    await pause();
    for (let b = a + 1; b < distinct.length; b++)
      if (index.similarity(distinct[a]!, distinct[b]!) >= threshold) parent[root(b)] = root(a);
  }
  for (const own of ids)
    for (const id of own) parent[root(slot.get(id)!)] = root(slot.get(own[0]!)!);
  const groups = new Map<number, Candidate[]>();
  candidates.forEach((c, i) => append(groups, root(slot.get(ids[i]![0]!)!), c));
  return [...groups.values()];
}

/** The representative template of incidents: most incidents, then earliest, then code-point. */
function representative(rows: readonly RecurrenceIncident[]): string {
  const byTemplate = groupBy([...rows], (r) => r.template);
  return [...byTemplate.entries()].sort(
    ([a, x], [b, y]) =>
      y.length - x.length || x[0]!.openedAt.localeCompare(y[0]!.openedAt) || (a < b ? -1 : 1),
  )[0]![0];
}

/**
 * Expected CIs with k or more occurrences among those that raise this failure at all, from how
 * often the other CIs that had it had it again: their counts are a zero-truncated Poisson whose
 * rate solves λ / (1 - e^-λ) = mean. 0 when fewer than two other CIs had it (nothing to learn).
 */
export function repeatChance(counts: ReadonlyMap<string, number>, ci: string, k: number): number {
  const { cis, total } = otherCis(counts, ci);
  if (cis < 2) return 0;
  const rate = truncatedPoissonRate(total / cis);
  if (rate === 0) return 0;
  return (cis + 1) * Math.min(1, poissonTail(rate, k) / -Math.expm1(-rate));
}

/**
 * The joint test's answer to a wording only some CIs can raise, as repeatChance() is the count
 * test's: expected CIs with lone and corroborated occurrences at least as far above their rates
 * (see jointChance), among those that raise this failure at all. The rates are those of the other
 * CIs that had it: their counts a zero-truncated Poisson (rate λ, as in repeatChance), split
 * between lone and corroborated as theirs are. 0 when fewer than two other CIs had it.
 */
export function repeatJointChance(
  counts: ReadonlyMap<string, number>,
  corroboratedCounts: ReadonlyMap<string, number>,
  ci: string,
  lone: number,
  corroborated: number,
): number {
  const { cis, total, seen } = otherCis(counts, ci, corroboratedCounts);
  if (cis < 2) return 0;
  const rate = truncatedPoissonRate(total / cis);
  if (rate === 0) return 0;
  const share = seen / total;
  const chance = jointChance(lone, corroborated, rate * (1 - share), rate * share);
  return (cis + 1) * Math.min(1, chance / -Math.expm1(-rate));
}

/**
 * The CIs other than `ci` that had the failure (repeatChance, repeatJointChance): how many, their
 * occurrences, and how many of those were corroborated (0 without `corroboratedCounts`).
 */
function otherCis(
  counts: ReadonlyMap<string, number>,
  ci: string,
  corroboratedCounts?: ReadonlyMap<string, number>,
): { cis: number; total: number; seen: number } {
  let cis = 0;
  let total = 0;
  let seen = 0;
  for (const [other, n] of counts)
    if (other !== ci && n > 0) {
      cis++;
      total += n;
      if (corroboratedCounts) seen += Math.min(n, corroboratedCounts.get(other) ?? 0);
    }
  return { cis, total, seen };
}

/** The rate λ of a zero-truncated Poisson with this mean: λ / (1 - e^-λ) = mean. */
function truncatedPoissonRate(mean: number): number {
  let lo = 0;
  let hi = mean;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (mid / -Math.expm1(-mid) < mean) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** A failure that began at about the same time of day on several days: a scheduled cause. */
export type Schedule = {
  /** The time of day (UTC, HH:MM) of the occurrence the others line up with. */
  at: string;
  /** Days on which the failure began within `windowMinutes` of that time of day. */
  days: number;
  windowMinutes: number;
  /** CIs of the class that would line up as well by chance (see scheduleChance). */
  chance: number;
  /** This CI's own chance of lining up as many days, given its occurrences (before `chance`
   * corrects it for the CIs of the class that could have lined up as well). */
  own: number;
  /** CIs of the class that would show as many occurrences (lone and corroborated, or all of them
   * where the class has no corroborated one) and as many days lined up together by chance (see
   * combinedChance); null when not weighed (fewer than `minIncidents` days). */
  withCount: number | null;
};

const timeOfDay = (t: number) => ((t % DAY_MS) + DAY_MS) % DAY_MS;
const dayOf = (t: number) => Math.floor(t / DAY_MS);
/** How far apart two instants are in time of day, across midnight. */
function timeOfDayApart(a: number, b: number): number {
  const d = Math.abs(timeOfDay(a) - timeOfDay(b));
  return Math.min(d, DAY_MS - d);
}

/**
 * Whether a CI's occurrences of a failure (`own`, their starts) line up in time of day more than
 * chance would: the most days on which one began within `windowMs` of one occurrence's time of
 * day, and how many CIs of its class would show as many by chance. The null is that the CI's
 * occurrences fall at the times of day its class's other occurrences of the failure fall at
 * (`others`; busier hours weigh more, and never less than the window's share of a day): for each
 * occurrence, P(Binomial(its other days' occurrences, the share of the class's others within the
 * window of its time of day) ≥ days − 1), summed over the occurrences (any one of them may be the
 * one the others line up with). Each other CI of the class with at least as many occurrences
 * (`others`: each one's starts) could have lined up as well, each by its own occurrences: n of
 * them line up as many days with about n·P(Binomial(n − 1, s) ≥ days − 1), s the chance that an
 * occurrence of one CI begins within the window of one of another's (never less than the window's
 * share of a day); and no CI's alignment is as unlikely as this one's with more than this one's
 * chance. The chance is the expected number of CIs lining up as many days, as unlikely: this
 * CI's own, plus each other's, the smaller of the two. Null when no two days line up. Time of day
 * is UTC: a scheduled job keeps it, except across a daylight-saving change.
 */
export function scheduleChance(
  own: readonly number[],
  others: readonly (readonly number[])[],
  windowMs: number,
): Schedule | null {
  return scheduleBasis(new Map(others.map((starts, i) => [i, starts])), windowMs).chance(own);
}

/**
 * For each start, on how many days one began within `windowMs` of its time of day; and the most.
 */
function linedDays(own: readonly number[], windowMs: number): { lined: number[]; days: number } {
  const lined = own.map((a) => {
    const days = new Set([dayOf(a)]);
    for (const t of own) if (timeOfDayApart(a, t) <= windowMs) days.add(dayOf(t));
    return days.size;
  });
  return { lined, days: lined.reduce((most, n) => Math.max(most, n), 0) };
}

/** scheduleChance() for each CI of a class in turn, against the class's other CIs. */
export type ScheduleBasis = {
  /** scheduleChance(own, the starts of every CI but `exclude`, windowMs). */
  chance(own: readonly number[], exclude?: unknown): Schedule | null;
};

/**
 * The class's occurrences of a failure (`starts`, each CI's) prepared once for scheduleChance()
 * of each of its CIs against the others: every CI of a class asking would otherwise flatten, sort
 * and count all the others' again, quadratic in the class's CIs. What a CI's question leaves out
 * (its own starts, as a CI of the class) is subtracted: counts of times of day within the window,
 * and of pairs of them, are integers, so the answers are exactly those of the direct count.
 */
export function scheduleBasis(
  starts: ReadonlyMap<unknown, readonly number[]>,
  windowMs: number,
): ScheduleBasis {
  const near = nearCounter([...starts.values()].flat(), windowMs);
  // Per CI: its occurrences, how many of all the starts begin near each of them (summed), and
  // how many pairs of its own do (each with itself included).
  const counts = new Map<unknown, { n: number; near: number; own: number }>();
  let total = 0;
  let nearSum = 0;
  let ownSum = 0;
  let squares = 0;
  for (const [ci, times] of starts) {
    // Its own pairs counted as `near` counts, not pair by pair: a CI with an occurrence every hour
    // of a month would otherwise cost half a million steps for each like set it is in.
    const nearOwn = nearCounter(times, windowMs);
    let close = 0;
    let own = 0;
    for (const t of times) {
      close += near(t);
      own += nearOwn(t);
    }
    counts.set(ci, { n: times.length, near: close, own });
    total += times.length;
    nearSum += close;
    ownSum += own;
    squares += times.length * times.length;
  }
  return {
    chance(own, exclude) {
      const { lined, days } = linedDays(own, windowMs);
      if (days < 2) return null;
      const uniform = Math.min(1, (2 * windowMs) / DAY_MS);
      const left = counts.get(exclude) ?? { n: 0, near: 0, own: 0 };
      const nearLeft = nearCounter(starts.get(exclude) ?? [], windowMs);
      // The others' starts: all of them less the excluded CI's.
      const others = total - left.n;
      let tail = 0;
      for (const a of own) {
        const share = Math.max(uniform, others === 0 ? 0 : (near(a) - nearLeft(a)) / others);
        const rest = own.filter((t) => dayOf(t) !== dayOf(a)).length;
        tail += binomialTail(rest, share, days - 1);
      }
      // How often an occurrence of one CI begins within the window of another CI's, on average:
      // of the pairs of the others' starts on different CIs (n·(others − n) summed), those near
      // each other: every near pair, less each CI's own and those with the excluded CI.
      const pairs = others * others - (squares - left.n * left.n);
      const close = nearSum - ownSum - 2 * (left.near - left.own);
      const typical = Math.max(uniform, pairs === 0 ? 0 : close / pairs);
      let chance = Math.min(1, tail);
      const byCount = new Map<number, number>();
      for (const [ci, { n }] of counts) {
        if (ci === exclude || n < days) continue;
        let lines = byCount.get(n);
        if (lines === undefined) {
          lines = n * binomialTail(n - 1, typical, days - 1);
          byCount.set(n, lines);
        }
        chance += Math.min(1, tail, lines);
      }
      const anchor = timeOfDay(own[lined.indexOf(days)]!);
      return {
        at: new Date(anchor).toISOString().slice(11, 16),
        days,
        windowMinutes: windowMs / 60_000,
        chance,
        own: Math.min(1, tail),
        withCount: null,
      };
    },
  };
}

/**
 * How many of `times` begin within `windowMs` of a time of day, across midnight: their times of
 * day sorted once, each question two or four binary searches.
 */
function nearCounter(times: readonly number[], windowMs: number): (at: number) => number {
  const sorted = times.map(timeOfDay).sort((a, b) => a - b);
  // How many sorted times of day are below x.
  const below = (x: number) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  // Those in [from, to], both within one day.
  const within = (from: number, to: number) => below(to + 0.5) - below(from);
  return (at) => {
    if (2 * windowMs >= DAY_MS) return sorted.length;
    const t = timeOfDay(at);
    let n = within(Math.max(0, t - windowMs), Math.min(DAY_MS - 1, t + windowMs));
    if (t - windowMs < 0) n += within(t - windowMs + DAY_MS, DAY_MS - 1);
    if (t + windowMs >= DAY_MS) n += within(0, t + windowMs - DAY_MS);
    return n;
  };
}

/**
 * Fisher's method for two independent p-values: the chance that their product is at most
 * p = a·b under the null, p(1 − ln p). Never below the product; 1 when both are 1.
 */
export function combinedChance(a: number, b: number): number {
  const p = Math.min(1, a) * Math.min(1, b);
  if (p <= 0) return 0;
  return Math.min(1, p * (1 - Math.log(p)));
}

/**
 * The chance that a CI's lone and corroborated like occurrences, independent Poisson counts at
 * the class's rates (`loneMean`, `corroboratedMean` per CI), exceed them at least as much as
 * `lone` and `corroborated` do: P(D ≥ d), D the sum of their one-sided likelihood-ratio
 * deviances, 2(x ln(x/μ) − (x − μ)) where x > μ, else 0. Exact: summed over the corroborated
 * count, the lone count's tail beyond what the rest of the deviance needs. 1 when neither exceeds.
 */
export function jointChance(
  lone: number,
  corroborated: number,
  loneMean: number,
  corroboratedMean: number,
): number {
  if (!(loneMean > 0) || !(corroboratedMean > 0)) return 1;
  const deviance = (x: number, mean: number) =>
    x <= mean ? 0 : 2 * (x * Math.log(x / mean) - (x - mean));
  // A hair below, so the observed counts themselves count as "as large" despite rounding.
  const needed = deviance(lone, loneMean) + deviance(corroborated, corroboratedMean) - 1e-9;
  if (needed <= 0) return 1;
  let sum = 0;
  let below = 0;
  let logP = -corroboratedMean;
  for (let j = 0; j <= corroborated + 10_000; j++) {
    if (j > 0) logP += Math.log(corroboratedMean) - Math.log(j);
    const rest = needed - deviance(j, corroboratedMean);
    if (rest <= 0) {
      // From here on every corroborated count is deviant enough alone.
      sum += Math.max(0, 1 - below);
      break;
    }
    // The fewest lone occurrences above the mean whose deviance is `rest` or more.
    let lo = Math.floor(loneMean) + 1;
    let hi = lo;
    while (deviance(hi, loneMean) < rest) hi *= 2;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (deviance(mid, loneMean) >= rest) hi = mid;
      else lo = mid + 1;
    }
    const p = Math.exp(logP);
    sum += p * poissonTail(loneMean, lo);
    below += p;
  }
  return Math.min(1, sum);
}

/** P(X ≥ k) for X ~ Poisson(rate), summed from the tail. */
export function poissonTail(rate: number, k: number): number {
  if (k <= 0) return 1;
  let log = -rate;
  for (let i = 1; i <= k; i++) log += Math.log(rate) - Math.log(i);
  let sum = 0;
  for (let i = k; ; i++) {
    const term = Math.exp(log);
    sum += term;
    if (term < sum * 1e-12 || i > k + 10_000) break;
    log += Math.log(rate) - Math.log(i + 1);
  }
  return Math.min(1, sum);
}

/** P(X ≥ k) for X ~ Binomial(n, p), summed from the tail in log space (exact for small tails). */
export function binomialTail(n: number, p: number, k: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p >= 1) return 1;
  let logC = 0;
  for (let i = 0; i < k; i++) logC += Math.log(n - i) - Math.log(i + 1);
  let log = logC + k * Math.log(p) + (n - k) * Math.log1p(-p);
  let sum = 0;
  for (let i = k; i <= n; i++) {
    const term = Math.exp(log);
    sum += term;
    if (term < sum * 1e-12) break;
    log += Math.log(n - i) - Math.log(i + 1) + Math.log(p) - Math.log1p(-p);
  }
  return Math.min(1, sum);
}

/** The trend of incidents over the look-back ending at `now`: its later half vs its earlier. */
export function trendOf(openedAt: string[], lookbackDays: number, now: Date): Trend {
  const since = now.getTime() - lookbackDays * DAY_MS;
  const split = now.getTime() - (lookbackDays * DAY_MS) / 2;
  let earlier = 0;
  let later = 0;
  for (const at of openedAt) {
    const t = Date.parse(at);
    if (t < since || t > now.getTime()) continue;
    if (t < split) earlier++;
    else later++;
  }
  // A difference of one incident (or a fifth of them) is noise, not a trend.
  const tolerance = Math.max(1, 0.2 * (earlier + later));
  const direction =
    later - earlier > tolerance ? 'rising' : earlier - later > tolerance ? 'falling' : 'steady';
  return { direction, earlier, later, splitAt: new Date(split).toISOString() };
}

function candidateOf(
  pattern: Pattern,
  o: Required<ProblemMiningSettings>,
  now: Date,
): CandidateProblem & { evidence: ProblemEvidence } {
  const rows = pattern.incidents;
  const first = rows[0]!;
  const last = rows.at(-1)!;
  const cis = [...new Set(rows.map((r) => r.rootCauseCi))].sort();
  const since = now.getTime() - o.lookbackDays * DAY_MS;
  const inLookback = rows.filter((r) => Date.parse(r.openedAt) >= since).length;
  const trend = trendOf(
    rows.map((r) => r.openedAt),
    o.lookbackDays,
    now,
  );
  const evidence: ProblemEvidence = {
    kind: pattern.kind,
    scope: pattern.scope,
    ci: pattern.kind === 'ci' ? pattern.value : null,
    class: pattern.kind === 'class' ? pattern.value : null,
    anchor: pattern.anchor,
    template: pattern.template,
    templates: pattern.templates,
    cis,
    incidents: rows.map((r) => ({
      id: r.id,
      number: r.number,
      openedAt: r.openedAt,
      ci: r.rootCauseCi,
      template: r.template,
    })),
    count: rows.length,
    occurrences: pattern.occurrences,
    corroborated: pattern.corroborated,
    schedule:
      pattern.schedule === null
        ? null
        : {
            ...pattern.schedule,
            chance: Number(pattern.schedule.chance.toPrecision(3)),
            own: Number(pattern.schedule.own.toPrecision(3)),
            withCount:
              pattern.schedule.withCount === null
                ? null
                : Number(pattern.schedule.withCount.toPrecision(3)),
          },
    peers: pattern.peers,
    chance: pattern.chance === null ? null : Number(pattern.chance.toPrecision(3)),
    test: pattern.test,
    firstAt: first.openedAt,
    lastAt: last.openedAt,
    lookbackDays: o.lookbackDays,
    inLookback,
    perWeek: Math.round((inLookback / (o.lookbackDays / 7)) * 100) / 100,
    trend,
    minedAt: now.toISOString(),
  };
  const days = Math.max(
    o.lookbackDays,
    Math.ceil((now.getTime() - Date.parse(first.openedAt)) / DAY_MS),
  );
  const counted = `(${rows.length} incidents in ${days} days)`;
  const template = truncate(pattern.template, MAX_TITLE_TEMPLATE);
  const title =
    pattern.kind === 'ci'
      ? `Recurring: ${template.replaceAll('<ci>', pattern.value)} ${counted}`
      : `Recurring on ${cis.length} ${pattern.value} CIs sharing ${pattern.anchor}: ${template} ${counted}`;
  const description = [
    `Proposed by the problem miner: ${rows.length} incidents ${
      pattern.kind === 'ci'
        ? `with root cause ${pattern.value}`
        : `on CIs of class ${pattern.value} next to ${pattern.anchor}`
    } say "${pattern.template}"${pattern.templates.length > 1 ? ` (or alike: ${pattern.templates.length} wordings)` : ''}.`,
    `First ${first.openedAt}, last ${last.openedAt}; ${evidence.perWeek} a week over the last ${o.lookbackDays} days, ${trend.direction} (${trend.earlier} in the earlier half, ${trend.later} in the later).`,
    ...(pattern.schedule === null
      ? []
      : [
          `It began at about ${pattern.schedule.at} UTC (within ${pattern.schedule.windowMinutes} minutes) on ${pattern.schedule.days} days: look for a scheduled job.`,
        ]),
    'Accept it to link these incidents; reject it (with a reason) and this pattern is not proposed again.',
  ].join('\n');
  return {
    title,
    description,
    signature: `${pattern.scope}|${pattern.template}`,
    evidence,
    impact: CANDIDATE_IMPACT,
    urgency: CANDIDATE_URGENCY,
    priority: matrixPriority(o.priorityMatrix, CANDIDATE_IMPACT, CANDIDATE_URGENCY),
    primaryCi: pattern.kind === 'ci' ? pattern.value : null,
    cis,
    createdBy: 'correlator',
  };
}

/**
 * The problems (any state, oldest first) a pattern already is: one of its signatures, or one of
 * its scope with one of its templates in the evidence (the pattern's wording drifted). Stored
 * templates are read again under today's template rules (toTemplate is idempotent on a template):
 * a rule added since, such as masking a notification handle, changes the template of the same
 * failure, and a pattern a person rejected must stay rejected.
 */
async function problemsOf(tx: Queryable, pattern: Pattern): Promise<PatternProblem[]> {
  const templates = new Set(pattern.templates);
  const prefix = `${pattern.scope}|`;
  const signatures = pattern.templates.map((t) => `${prefix}${t}`);
  const rows = await problemsOfPattern(tx, { signatures, scope: pattern.scope });
  return rows.filter(
    (p) =>
      (p.signature !== null &&
        (signatures.includes(p.signature) ||
          (p.signature.startsWith(prefix) &&
            templates.has(toTemplate(p.signature.slice(prefix.length)))))) ||
      (p.evidence?.scope === pattern.scope &&
        evidenceOf(p.evidence).templates.some((t) => templates.has(toTemplate(t)))),
  );
}

/** The parts of a stored evidence the miner reads back, tolerating any shape. */
function evidenceOf(value: Record<string, unknown> | null): {
  template: string | null;
  templates: string[];
  incidents: { id: string }[];
} {
  const strings = (v: unknown) =>
    Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
  const incidents = Array.isArray(value?.incidents)
    ? (value.incidents as unknown[]).flatMap((i) => {
        const id = (i as { id?: unknown } | null)?.id;
        return typeof id === 'string' && /^\d+$/.test(id) ? [{ id }] : [];
      })
    : [];
  return {
    template: typeof value?.template === 'string' ? value.template : null,
    templates: strings(value?.templates),
    incidents,
  };
}

function sameIds(a: string[], b: string[]): boolean {
  const left = new Set(a);
  return left.size === new Set(b).size && b.every((id) => left.has(id));
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
