import { describe, expect, it } from 'vitest';
import {
  adjustedRandIndex,
  candidateScores,
  compression,
  countPairs,
  matchIncidents,
  noiseAttached,
  pairScores,
  problemScores,
  rootCauseAccuracy,
  scoreCorrelation,
  type AlertPrediction,
  type AlertTruth,
} from '../../../bench/correlation/score.ts';

const alert = (incident: string | null, rootCause = 'ci', problem: string | null = null) =>
  ({ incident, rootCause, problem }) satisfies AlertTruth;

const prediction = (
  incidents: (string | null)[],
  rootCauses: Record<string, string[]> = {},
  problems: Record<string, string> = {},
): AlertPrediction => ({
  incidents,
  rootCauses: new Map(Object.entries(rootCauses)),
  problems: new Map(Object.entries(problems)),
});

// Two incidents (X of 3 alerts, Y of 2) and one noise alert, against a prediction that splits X
// and puts one of its alerts with Y. Hand-computed below.
const truth = [
  alert('X', 'db-1'),
  alert('X', 'db-1'),
  alert('X', 'db-1'),
  alert('Y', 'sw-1'),
  alert('Y', 'sw-1'),
  alert(null, 'vm-9'),
];
const predicted = ['a', 'a', 'b', 'b', 'b', 'c'];

describe('pairs', () => {
  it('counts pairs from the contingency table', () => {
    // Cells: (X,a)=2 → 1 pair, (X,b)=1, (Y,b)=2 → 1 pair; true: C(3,2)+C(2,2) = 4;
    // predicted: C(2,2)+C(3,2) = 4.
    expect(
      countPairs(
        truth.map((t) => t.incident),
        predicted,
      ),
    ).toEqual({
      items: 6,
      together: 2,
      truePairs: 4,
      predictedPairs: 4,
    });
  });

  it('gives pairwise precision, recall and F1', () => {
    const s = pairScores(
      countPairs(
        truth.map((t) => t.incident),
        predicted,
      ),
    );
    expect(s).toEqual({ precision: 0.5, recall: 0.5, f1: 0.5 });
  });

  it('gives the adjusted Rand index', () => {
    // C(6,2) = 15 pairs; expected = 4·4/15; max = 4; ARI = (2 − 16/15) / (4 − 16/15) = 7/22.
    const ari = adjustedRandIndex(
      countPairs(
        truth.map((t) => t.incident),
        predicted,
      ),
    );
    expect(ari).toBeCloseTo(7 / 22, 12);
  });

  it('treats null as a singleton on both sides', () => {
    expect(countPairs(['X', 'X', null, null], [null, null, 'a', 'a'])).toEqual({
      items: 4,
      together: 0,
      truePairs: 1,
      predictedPairs: 1,
    });
  });

  it('scores all noise left alone as perfect, and all noise glued together as worthless', () => {
    const noise = [null, null, null, null];
    const alone = countPairs(noise, [null, null, null, null]);
    expect(pairScores(alone)).toEqual({ precision: 1, recall: 1, f1: 1 });
    expect(adjustedRandIndex(alone)).toBe(1);
    const glued = countPairs(noise, ['a', 'a', 'a', 'a']);
    expect(pairScores(glued)).toEqual({ precision: 0, recall: 1, f1: 0 });
    expect(adjustedRandIndex(glued)).toBe(0);
  });

  it('scores one big cluster found whole as perfect, and split into singletons as worthless', () => {
    const one = ['X', 'X', 'X', 'X'];
    const whole = countPairs(one, ['a', 'a', 'a', 'a']);
    expect(pairScores(whole).f1).toBe(1);
    expect(adjustedRandIndex(whole)).toBe(1);
    const split = countPairs(one, ['a', 'b', 'c', null]);
    expect(pairScores(split)).toEqual({ precision: 1, recall: 0, f1: 0 });
    expect(adjustedRandIndex(split)).toBe(0);
  });

  it('scores singletons found as singletons as perfect', () => {
    const c = countPairs(['X', 'Y', 'Z'], ['a', 'b', 'c']);
    expect(pairScores(c).f1).toBe(1);
    expect(adjustedRandIndex(c)).toBe(1);
    expect(adjustedRandIndex(countPairs([], []))).toBe(1);
    expect(adjustedRandIndex(countPairs(['X'], ['a']))).toBe(1);
  });

  it('refuses partitions of different lengths', () => {
    expect(() => countPairs(['X'], [])).toThrow(/1 true labels, 0 predicted/);
  });
});

describe('noise attached', () => {
  it('counts a noise alert attached only when its incident holds another alert', () => {
    expect(noiseAttached(truth, predicted)).toBe(0);
    expect(noiseAttached(truth, ['a', 'a', 'b', 'b', 'b', 'b'])).toBe(1);
    expect(noiseAttached(truth, ['a', 'a', 'b', 'b', 'b', null])).toBe(0);
    const twoNoise = [alert(null), alert(null), alert('X')];
    expect(noiseAttached(twoNoise, ['n', 'n', 'x'])).toBe(1);
    expect(noiseAttached(twoNoise, ['n', 'm', 'n'])).toBe(0.5);
  });

  it('is 0 without noise', () => {
    expect(noiseAttached([alert('X')], ['a'])).toBe(0);
  });
});

describe('root cause', () => {
  it('matches each true incident to the predicted incident holding most of its alerts', () => {
    expect(matchIncidents(truth, predicted)).toEqual(
      new Map([
        ['X', 'a'],
        ['Y', 'b'],
      ]),
    );
    // A tie goes to the predicted incident seen first; all alerts left alone: no match.
    expect(matchIncidents([alert('X'), alert('X'), alert('Y')], ['b', 'a', null])).toEqual(
      new Map([
        ['X', 'b'],
        ['Y', undefined],
      ]),
    );
  });

  it('checks the true root among the first k candidates of the matched incident', () => {
    const p = prediction(predicted, { a: ['db-1', 'app-1'], b: ['app-2', 'x', 'sw-1'] });
    expect(rootCauseAccuracy(truth, p, 1)).toBe(0.5);
    expect(rootCauseAccuracy(truth, p, 2)).toBe(0.5);
    expect(rootCauseAccuracy(truth, p, 3)).toBe(1);
  });

  it('misses an incident whose alerts were all left alone, and is 1 without incidents', () => {
    const p = prediction([null, null, null, 'b', 'b', 'c'], { b: ['sw-1'] });
    expect(rootCauseAccuracy(truth, p, 3)).toBe(0.5);
    expect(rootCauseAccuracy([alert(null)], prediction(['a']), 1)).toBe(1);
  });
});

describe('compression', () => {
  it('divides alerts by incidents, an alert left alone counting as one', () => {
    expect(compression(predicted)).toBe(2);
    expect(compression(['a', 'a', 'a', null])).toBe(2);
    expect(compression([null, null])).toBe(1);
    expect(compression([])).toBe(1);
  });
});

describe('problem F1', () => {
  // Incidents I1 (2 alerts), I2, I3 recur as problem P; I4 is in none.
  const recurring = [
    alert('I1', 'db', 'P'),
    alert('I1', 'db', 'P'),
    alert('I2', 'db', 'P'),
    alert('I3', 'db', 'P'),
    alert('I4', 'vm'),
    alert(null),
  ];

  it('is pairwise over true incidents, through their matched predicted incidents', () => {
    // True labels [P, P, P, null], predicted [Q, Q, null, Q]: 1 of 3 true pairs found, 1 of 3
    // predicted pairs right.
    const p = prediction(['a', 'a', 'b', 'c', 'd', 'e'], {}, { a: 'Q', b: 'Q', d: 'Q' });
    const s = problemScores(recurring, p);
    expect(s.precision).toBeCloseTo(1 / 3, 12);
    expect(s.recall).toBeCloseTo(1 / 3, 12);
    expect(s.f1).toBeCloseTo(1 / 3, 12);
  });

  it('counts recurrences merged into one incident only when that incident is in a problem', () => {
    const merged = ['a', 'a', 'a', 'c', 'd', 'e'];
    expect(problemScores(recurring, prediction(merged, {}, { a: 'Q', c: 'Q' })).f1).toBe(1);
    expect(problemScores(recurring, prediction(merged, {}, { c: 'Q' }))).toEqual({
      precision: 1,
      recall: 0,
      f1: 0,
    });
  });

  it('is perfect with no problems predicted where there are none', () => {
    expect(problemScores([alert('I1'), alert('I2')], prediction(['a', 'b'])).f1).toBe(1);
  });
});

describe('candidate problems', () => {
  // P recurs in I1, I2, I3; R in I5, I6; I4 is a one-off fault; n1, n2 are noise alerts.
  const truth = [
    alert('I1', 'db', 'P'),
    alert('I2', 'db', 'P'),
    alert('I3', 'db', 'P'),
    alert('I4', 'vm'),
    alert('I5', 'sw', 'R'),
    alert('I6', 'sw', 'R'),
    alert(null, 'vm-7'),
    alert(null, 'vm-7'),
  ];

  it('counts candidates with no alert of a true problem as false, and true problems found', () => {
    // Q links I1 and I2 (P found); N links the two noise alerts; O links I4 with a noise alert;
    // R's incidents are in no candidate.
    const p = prediction(
      ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
      {},
      { a: 'Q', b: 'Q', g: 'N', h: 'N', d: 'O' },
    );
    const s = candidateScores(truth, p);
    expect(s).toMatchObject({ proposed: 3, trueProblems: 2, recall: 1 / 2 });
    expect(s.falseShare).toBeCloseTo(2 / 3, 12);
  });

  it('does not count a true problem found when its incidents are in different candidates', () => {
    const p = prediction(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], {}, { a: 'Q', b: 'S', e: 'T' });
    expect(candidateScores(truth, p)).toMatchObject({ proposed: 3, falseShare: 0, recall: 0 });
  });

  it('is empty with nothing proposed and nothing to find', () => {
    expect(candidateScores([alert('I1'), alert(null)], prediction(['a', null]))).toEqual({
      proposed: 0,
      falseShare: 0,
      trueProblems: 0,
      recall: 1,
    });
  });
});

describe('scoreCorrelation', () => {
  it('puts every metric together', () => {
    const s = scoreCorrelation(
      truth,
      prediction(predicted, { a: ['db-1'], b: ['sw-1'] }, { a: 'Q' }),
    );
    expect(s).toMatchObject({
      alerts: 6,
      precision: 0.5,
      recall: 0.5,
      f1: 0.5,
      noiseAttached: 0,
      rootCauseTop1: 1,
      rootCauseTop3: 1,
      compression: 2,
      idealCompression: 2,
      problem: { precision: 1, recall: 1, f1: 1 },
      candidates: { proposed: 1, falseShare: 1, trueProblems: 0, recall: 1 },
    });
    expect(s.adjustedRandIndex).toBeCloseTo(7 / 22, 12);
  });
});
