/**
 * Candidate problems mined from recurring incidents. Over the incidents opened within a look-back
 * (not linked to a problem, not merged or canceled), a pattern is a group of incidents with the
 * same signature:
 *
 * - a CI pattern: one root-cause CI, and dominant templates that are the same failure (text
 *   similarity at least `textThreshold`, single-link, so two tools' wordings count once);
 * - a class pattern: the same template cluster on at least `classMinCis` CIs of one CMDB class
 *   ("disk full" on 12 hosts). It is mined first and covers its incidents: their CIs' own CI
 *   patterns are not proposed beside it, unless it was rejected or canceled.
 *
 * A pattern recurs at `minIncidents` incidents. Its signature is `ci:<name>|<template>` or
 * `class:<class>|<template>`, with the cluster's representative template (most incidents, then the
 * earliest, then the first in code-point order), so mining twice proposes nothing new. A pattern
 * that already is a problem in any state — one of its templates' signatures, or its scope with one
 * of its templates in the evidence — is never proposed again: a candidate's evidence takes the new
 * incidents; a rejected (or accepted) problem is left alone. Accepting a candidate links its
 * evidence's incidents (services/api/problems.ts).
 */
import type { Logger } from 'pino';
import { lockKeys, withTransaction, type Pool, type Queryable } from '../services/store/db.ts';
import {
  insertCandidateProblem,
  problemsOfPattern,
  recurrenceIncidents,
  recurrenceIncidentsById,
  updateCandidateEvidence,
  type CandidateProblem,
  type RecurrenceIncident,
} from '../services/store/problem-candidates.ts';
import { setActor } from '../services/store/tickets.ts';
import { matrixPriority, type PriorityMatrix } from '../services/store/workflows.ts';
import { createTemplateIndex, type TemplateIndex } from './similarity.ts';

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
};

/**
 * The defaults: a month of incidents, three of them make a pattern (two may be chance), a class
 * pattern spans three CIs, and templates are one failure at the correlation engine's
 * text-candidate threshold (0.6: "disk <pct> full on <ci>" and "disk usage on <ci> is <pct> full"
 * score 0.76; a disk and a CPU alert on one CI 0.23).
 */
export const problemMiningDefaults = {
  lookbackDays: 30,
  minIncidents: 3,
  classMinCis: 3,
  textThreshold: 0.6,
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
  /** The representative template, as in the signature. */
  template: string;
  /** Every template of the cluster, so a drifted wording still finds this problem. */
  templates: string[];
  cis: string[];
  incidents: EvidenceIncident[];
  count: number;
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

type Pattern = {
  kind: 'ci' | 'class';
  /** The CI name or the class name. */
  value: string;
  scope: string;
  template: string;
  templates: string[];
  incidents: RecurrenceIncident[];
};

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
  if (!(options.lookbackDays > 0) || !(options.minIncidents >= 2))
    throw new RangeError('problem mining needs lookbackDays > 0 and minIncidents >= 2');
  const since = new Date(now.getTime() - options.lookbackDays * DAY_MS);
  return withTransaction(pool, async (tx) => {
    await lockKeys(tx, ['problem.mine']);
    await setActor(tx, 'correlator', 'propose');
    const incidents = await recurrenceIncidents(tx, since, now);
    const index = await createTemplateIndex();
    for (const template of [...new Set(incidents.map((i) => i.template))].sort()) {
      index.add(template);
    }
    const patterns: MinedPattern[] = [];
    const covered = new Set<string>();

    for (const pattern of classPatterns(incidents, index, options)) {
      const mined = await settle(tx, pattern, options, now);
      patterns.push(mined);
      if (!(mined.outcome === 'held' && ['rejected', 'canceled'].includes(mined.state)))
        for (const i of pattern.incidents) covered.add(i.id);
    }
    for (const pattern of ciPatterns(incidents, index, options)) {
      if (pattern.incidents.every((i) => covered.has(i.id))) continue;
      patterns.push(await settle(tx, pattern, options, now));
    }
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
  const signatures = pattern.templates.map((t) => `${pattern.scope}|${t}`);
  const existing = await problemsOfPattern(tx, {
    signatures,
    scope: pattern.scope,
    templates: pattern.templates,
  });
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
      { ...pattern, template, templates, incidents: rows },
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
    (await problemsOfPattern(tx, { ...pattern, signatures }))[0];
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
  const result = await mineProblems(pool, settings);
  const touched = result.patterns.filter(
    (p) => p.outcome === 'proposed' || p.outcome === 'updated',
  );
  for (const p of touched)
    log.info(
      { problem: p.problemNumber, signature: p.signature, incidents: p.count, outcome: p.outcome },
      'problem mining: candidate problem',
    );
  return touched.length;
}

/** Groups incidents by a key, keeping their order. */
function groupBy<K>(items: RecurrenceIncident[], key: (i: RecurrenceIncident) => K | null) {
  const groups = new Map<K, RecurrenceIncident[]>();
  for (const item of items) {
    const k = key(item);
    if (k === null) continue;
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/**
 * Clusters the incidents of one scope by template similarity (single-link at `threshold`) and
 * names each cluster by its representative: most incidents, then earliest, then code-point order.
 */
export function clusterByTemplate(
  incidents: RecurrenceIncident[],
  index: TemplateIndex,
  threshold: number,
): { template: string; templates: string[]; incidents: RecurrenceIncident[] }[] {
  const byTemplate = groupBy(incidents, (i) => i.template);
  const templates = [...byTemplate.keys()].sort();
  const ids = templates.map((t) => index.add(t));
  const parent = templates.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (let a = 0; a < templates.length; a++)
    for (let b = a + 1; b < templates.length; b++)
      if (index.similarity(ids[a]!, ids[b]!) >= threshold) parent[root(b)] = root(a);
  const clusters = new Map<number, string[]>();
  templates.forEach((t, i) => {
    const r = root(i);
    clusters.set(r, [...(clusters.get(r) ?? []), t]);
  });
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

function classPatterns(
  incidents: RecurrenceIncident[],
  index: TemplateIndex,
  o: Required<ProblemMiningSettings>,
): Pattern[] {
  const byClass = groupBy(incidents, (i) => i.ciClass);
  return [...byClass.keys()].sort().flatMap((ciClass) =>
    clusterByTemplate(byClass.get(ciClass)!, index, o.textThreshold)
      .filter(
        (c) =>
          c.incidents.length >= o.minIncidents &&
          new Set(c.incidents.map((i) => i.rootCauseCi)).size >= o.classMinCis,
      )
      .map((c) => ({ kind: 'class' as const, value: ciClass, scope: `class:${ciClass}`, ...c })),
  );
}

function ciPatterns(
  incidents: RecurrenceIncident[],
  index: TemplateIndex,
  o: Required<ProblemMiningSettings>,
): Pattern[] {
  const byCi = groupBy(incidents, (i) => i.rootCauseCi);
  return [...byCi.keys()].sort().flatMap((ci) =>
    clusterByTemplate(byCi.get(ci)!, index, o.textThreshold)
      .filter((c) => c.incidents.length >= o.minIncidents)
      .map((c) => ({ kind: 'ci' as const, value: ci, scope: `ci:${ci}`, ...c })),
  );
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
      : `Recurring on ${cis.length} ${pattern.value} CIs: ${template} ${counted}`;
  const description = [
    `Proposed by the problem miner: ${rows.length} incidents ${
      pattern.kind === 'ci'
        ? `with root cause ${pattern.value}`
        : `on CIs of class ${pattern.value}`
    } say "${pattern.template}"${pattern.templates.length > 1 ? ` (or alike: ${pattern.templates.length} wordings)` : ''}.`,
    `First ${first.openedAt}, last ${last.openedAt}; ${evidence.perWeek} a week over the last ${o.lookbackDays} days, ${trend.direction} (${trend.earlier} in the earlier half, ${trend.later} in the later).`,
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
