/**
 * The metrics of bench/correlation, as pure functions of the truth and a prediction, both per
 * alert (a logical alert: one firing episode of one fingerprint, however many times it was
 * delivered, re-sent or flapped).
 *
 * A null incident is a singleton: in the truth, a noise alert belongs to no incident; in a
 * prediction, an alert the correlator left out of every incident. Pairs are counted from the
 * contingency table of (true incident, predicted incident), so every metric is O(alerts).
 */

/** What an alert really belongs to. */
export type AlertTruth = {
  /** Its incident; null: a background alert that belongs to none. */
  incident: string | null;
  /** The CI whose fault caused it (a noise alert: its own CI). */
  rootCause: string;
  /** The recurrence group of its incident: the same root CI and failure mode, recurring. */
  problem: string | null;
};

/** What a correlator said, per alert, aligned with the truth. */
export type AlertPrediction = {
  /** The predicted incident of each alert; null: left alone. */
  incidents: readonly (string | null)[];
  /** Candidate root-cause CIs of each predicted incident, best first. */
  rootCauses: ReadonlyMap<string, readonly string[]>;
  /** The predicted problem of each predicted incident that is in one. */
  problems: ReadonlyMap<string, string>;
};

/** Pair counts of two partitions of the same items. */
export type PairCounts = {
  items: number;
  /** Pairs together in both partitions. */
  together: number;
  /** Pairs together in the truth. */
  truePairs: number;
  /** Pairs together in the prediction. */
  predictedPairs: number;
};

/** Pairwise precision, recall and F1. */
export type PairScores = { precision: number; recall: number; f1: number };

/** Every metric of one correlator on one stream. */
export type Scores = PairScores & {
  alerts: number;
  adjustedRandIndex: number;
  /** Share of noise alerts put in an incident with at least one other alert. */
  noiseAttached: number;
  rootCauseTop1: number;
  rootCauseTop3: number;
  /** Alerts per incident (an alert left alone counts as one incident). */
  compression: number;
  /** The same for the true partition (each noise alert on its own). */
  idealCompression: number;
  problem: PairScores;
  /** What the candidate problems are made of (a diagnostic beside problem F1). */
  candidates: CandidateScores;
};

/**
 * The candidate problems as a problem manager reviews them, one by one: problem F1 is pairwise
 * over true incidents, so a candidate made only of background alerts costs it nothing, while it
 * costs the person who reads it their time.
 */
export type CandidateScores = {
  /** Predicted problems proposed. */
  proposed: number;
  /** Share of them with no alert of a true problem: all noise, or one-off faults only. 0 if none. */
  falseShare: number;
  /** True problems (labels with two or more true incidents). */
  trueProblems: number;
  /** Share of true problems with two or more incidents in one predicted problem. 1 if none. */
  recall: number;
};

const pairs = (n: number) => (n * (n - 1)) / 2;

/** 0/0 is 1: nothing claimed, nothing wrong (and nothing to find, nothing missed). */
const ratio = (num: number, den: number) => (den === 0 ? 1 : num / den);

/** Counts the pairs of items that two partitions put together; null labels are singletons. */
export function countPairs(
  truth: readonly (string | null)[],
  predicted: readonly (string | null)[],
): PairCounts {
  if (truth.length !== predicted.length)
    throw new Error(`countPairs: ${truth.length} true labels, ${predicted.length} predicted`);
  const rows = new Map<string, number>();
  const columns = new Map<string, number>();
  const cells = new Map<string, number>();
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    const p = predicted[i];
    if (t != null) rows.set(t, (rows.get(t) ?? 0) + 1);
    if (p != null) columns.set(p, (columns.get(p) ?? 0) + 1);
    if (t != null && p != null) {
      const cell = `${t}\u0000${p}`;
      cells.set(cell, (cells.get(cell) ?? 0) + 1);
    }
  }
  const sum = (m: Map<string, number>) => {
    let s = 0;
    for (const n of m.values()) s += pairs(n);
    return s;
  };
  return {
    items: truth.length,
    together: sum(cells),
    truePairs: sum(rows),
    predictedPairs: sum(columns),
  };
}

/** Pairwise precision, recall and F1 from pair counts. */
export function pairScores(c: PairCounts): PairScores {
  const precision = ratio(c.together, c.predictedPairs);
  const recall = ratio(c.together, c.truePairs);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

/**
 * Hubert and Arabie's adjusted Rand index: 1 for identical partitions, about 0 for a random one.
 * When it is undefined (both partitions all singletons, or both one cluster) they are identical: 1.
 */
export function adjustedRandIndex(c: PairCounts): number {
  const all = pairs(c.items);
  if (all === 0) return 1;
  const expected = (c.truePairs * c.predictedPairs) / all;
  const max = (c.truePairs + c.predictedPairs) / 2;
  return max === expected ? 1 : (c.together - expected) / (max - expected);
}

/** Sizes of the predicted incidents. */
function incidentSizes(predicted: readonly (string | null)[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const p of predicted) if (p != null) sizes.set(p, (sizes.get(p) ?? 0) + 1);
  return sizes;
}

/**
 * The share of noise alerts put in an incident together with any other alert; an alert alone in
 * its incident, or in none, is not attached. 0 when there is no noise.
 */
export function noiseAttached(
  truth: readonly AlertTruth[],
  predicted: readonly (string | null)[],
): number {
  const sizes = incidentSizes(predicted);
  let noise = 0;
  let attached = 0;
  truth.forEach((t, i) => {
    if (t.incident !== null) return;
    noise++;
    const p = predicted[i];
    if (p != null && sizes.get(p)! > 1) attached++;
  });
  return noise === 0 ? 0 : attached / noise;
}

/**
 * For each true incident, the predicted incident holding most of its alerts (ties: the one that
 * comes first in alert order); absent when a correlator left all of them alone.
 */
export function matchIncidents(
  truth: readonly AlertTruth[],
  predicted: readonly (string | null)[],
): Map<string, string | undefined> {
  const votes = new Map<string, Map<string, number>>();
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i]!.incident;
    if (t === null) continue;
    const counts = votes.get(t) ?? new Map<string, number>();
    votes.set(t, counts);
    const p = predicted[i];
    if (p != null) counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  const match = new Map<string, string | undefined>();
  for (const [t, counts] of votes) {
    let best: string | undefined;
    let most = 0;
    // Map order is first-seen order, so a strict > keeps the earliest of equal counts.
    for (const [p, n] of counts)
      if (n > most) {
        best = p;
        most = n;
      }
    match.set(t, best);
  }
  return match;
}

/**
 * Root-cause accuracy at k: the share of true incidents whose matched predicted incident has the
 * true root-cause CI among its first k candidates. 1 when there is no true incident.
 */
export function rootCauseAccuracy(
  truth: readonly AlertTruth[],
  prediction: AlertPrediction,
  k: number,
  match = matchIncidents(truth, prediction.incidents),
): number {
  const roots = new Map<string, string>();
  for (const t of truth) if (t.incident !== null) roots.set(t.incident, t.rootCause);
  let hits = 0;
  for (const [incident, root] of roots) {
    const p = match.get(incident);
    const candidates = p === undefined ? [] : (prediction.rootCauses.get(p) ?? []);
    if (candidates.slice(0, k).includes(root)) hits++;
  }
  return ratio(hits, roots.size);
}

/** Alerts per incident, counting each alert left alone as an incident of its own. */
export function compression(predicted: readonly (string | null)[]): number {
  if (predicted.length === 0) return 1;
  let alone = 0;
  for (const p of predicted) if (p == null) alone++;
  return predicted.length / (incidentSizes(predicted).size + alone);
}

/**
 * Problem F1: pairwise over the true incidents. Two true incidents are a true pair when they share
 * a (non-null) problem; a predicted pair when their matched predicted incidents are in the same
 * predicted problem. A true incident whose alerts were all left alone, or whose predicted
 * incident is in no problem, pairs with nothing. So merging recurrences into one predicted
 * incident is not finding a problem unless that incident is in one.
 */
export function problemScores(
  truth: readonly AlertTruth[],
  prediction: AlertPrediction,
  match = matchIncidents(truth, prediction.incidents),
): PairScores {
  const problems = new Map<string, string | null>();
  for (const t of truth) if (t.incident !== null) problems.set(t.incident, t.problem);
  const trueLabels: (string | null)[] = [];
  const predictedLabels: (string | null)[] = [];
  for (const [incident, problem] of problems) {
    const p = match.get(incident);
    trueLabels.push(problem);
    predictedLabels.push(p === undefined ? null : (prediction.problems.get(p) ?? null));
  }
  return pairScores(countPairs(trueLabels, predictedLabels));
}

/**
 * The candidate problems against the truth (see CandidateScores). A predicted problem is false
 * when no alert of its predicted incidents belongs to a true problem; a true problem is found
 * when two of its incidents' matched predicted incidents are in one predicted problem.
 */
export function candidateScores(
  truth: readonly AlertTruth[],
  prediction: AlertPrediction,
  match = matchIncidents(truth, prediction.incidents),
): CandidateScores {
  const real = new Set<string>();
  truth.forEach((t, i) => {
    const p = prediction.incidents[i];
    const problem = p == null ? undefined : prediction.problems.get(p);
    if (t.problem !== null && problem !== undefined) real.add(problem);
  });
  const proposed = new Set(prediction.problems.values());
  const incidentsOf = new Map<string, Set<string>>();
  for (const t of truth)
    if (t.incident !== null && t.problem !== null)
      incidentsOf.set(t.problem, (incidentsOf.get(t.problem) ?? new Set()).add(t.incident));
  let trueProblems = 0;
  let found = 0;
  for (const incidents of incidentsOf.values()) {
    if (incidents.size < 2) continue;
    trueProblems++;
    const votes = new Map<string, number>();
    for (const incident of incidents) {
      const p = match.get(incident);
      const problem = p === undefined ? undefined : prediction.problems.get(p);
      if (problem !== undefined) votes.set(problem, (votes.get(problem) ?? 0) + 1);
    }
    if ([...votes.values()].some((n) => n >= 2)) found++;
  }
  return {
    proposed: proposed.size,
    falseShare: proposed.size === 0 ? 0 : 1 - real.size / proposed.size,
    trueProblems,
    recall: ratio(found, trueProblems),
  };
}

/** Every metric of a prediction against the truth. */
export function scoreCorrelation(
  truth: readonly AlertTruth[],
  prediction: AlertPrediction,
): Scores {
  const counts = countPairs(
    truth.map((t) => t.incident),
    prediction.incidents,
  );
  const match = matchIncidents(truth, prediction.incidents);
  return {
    alerts: truth.length,
    ...pairScores(counts),
    adjustedRandIndex: adjustedRandIndex(counts),
    noiseAttached: noiseAttached(truth, prediction.incidents),
    rootCauseTop1: rootCauseAccuracy(truth, prediction, 1, match),
    rootCauseTop3: rootCauseAccuracy(truth, prediction, 3, match),
    compression: compression(prediction.incidents),
    idealCompression: compression(truth.map((t) => t.incident)),
    problem: problemScores(truth, prediction, match),
    candidates: candidateScores(truth, prediction, match),
  };
}
