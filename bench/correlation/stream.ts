/**
 * A tier's storm held in memory for scoring: the deliveries in order, and the truth of each
 * logical alert they carry; and a correlator's per-delivery answer turned into one per alert.
 * Shared by the bench (run.ts) and its diagnostics.
 */
import type { Delivery, Prediction } from './correlator.ts';
import type { AlertPrediction, AlertTruth } from './score.ts';
import { generateStorm, type Tier } from './storms.ts';

/** A tier's stream in memory: deliveries, and the truth per logical alert. */
export type Stream = {
  deliveries: Delivery[];
  /** Index into `truth` of each delivery's alert. */
  alertOf: number[];
  truth: AlertTruth[];
};

export function materialize(tier: Tier): Stream {
  const deliveries: Delivery[] = [];
  const alertOf: number[] = [];
  const truth: AlertTruth[] = [];
  const index = new Map<string, number>();
  for (const { delivery, truth: t } of generateStorm(tier)) {
    let i = index.get(t.alert);
    if (i === undefined) {
      i = truth.length;
      index.set(t.alert, i);
      truth.push({ incident: t.incident, rootCause: t.rootCause, problem: t.problem });
    }
    deliveries.push(delivery);
    alertOf.push(i);
  }
  return { deliveries, alertOf, truth };
}

/**
 * From deliveries to alerts: an alert is in the incident most of its deliveries ended up in
 * (ties: its first delivery's). They differ only for a correlator that did not deduplicate it.
 */
export function alertIncidents(
  stream: Stream,
  incidentOf: readonly (string | null | undefined)[],
): (string | null)[] {
  if (incidentOf.length !== stream.deliveries.length)
    throw new Error(
      `prediction covers ${incidentOf.length} of ${stream.deliveries.length} deliveries`,
    );
  const votes = stream.truth.map(() => new Map<string | null, number>());
  incidentOf.forEach((incident, seq) => {
    const v = votes[stream.alertOf[seq]!]!;
    v.set(incident ?? null, (v.get(incident ?? null) ?? 0) + 1);
  });
  return votes.map((v) => {
    let best: string | null = null;
    let most = 0;
    for (const [incident, n] of v)
      if (n > most) {
        best = incident;
        most = n;
      }
    return best;
  });
}

/** A correlator's answer per alert (see alertIncidents), as the scorer takes it. */
export function perAlert(stream: Stream, prediction: Prediction): AlertPrediction {
  return {
    incidents: alertIncidents(stream, prediction.incidents),
    rootCauses: prediction.rootCauses,
    problems: prediction.problems,
  };
}
