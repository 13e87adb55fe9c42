/**
 * A tier's storm held in memory for scoring: the deliveries in order, and the truth of each
 * logical alert they carry; and a correlator's per-delivery answer turned into one per alert.
 * Shared by the bench (run.ts) and its diagnostics.
 */
import type { EngineConfig } from '../../correlator/engine/config.ts';
import {
  createCorrelationEngine,
  type CorrelationEngine,
  type EngineResult,
} from '../../correlator/engine/engine.ts';
import { Topology } from '../../correlator/engine/topology.ts';
import type { Delivery, Prediction } from './correlator.ts';
import type { AlertPrediction, AlertTruth } from './score.ts';
import { generateStorm, type StormEvent, type Tier } from './storms.ts';

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

/** The engine run over a tier's storm on arrival, with the events it was fed and its result. */
export type EngineRun = { events: StormEvent[]; engine: CorrelationEngine; result: EngineResult };

/** Runs the engine over a tier's storm on arrival, as the diagnostics look at it. */
export async function engineRun(tier: Tier, config: Partial<EngineConfig>): Promise<EngineRun> {
  const events = [...generateStorm(tier)];
  const engine = await createCorrelationEngine(tier.cmdb, config);
  for (const { delivery } of events) engine.push(delivery);
  engine.flush();
  return { events, engine, result: engine.result() };
}

/** The tier's CMDB as the engine sees it, searched `maxHops` far: how far apart alerts were. */
export function topologyWithin(tier: Tier, engine: CorrelationEngine, maxHops: number): Topology {
  const { hubDegree, dependencyDepth } = engine.config;
  return new Topology(tier.cmdb.cis, tier.cmdb.relationships, {
    maxHops,
    hubDegree,
    dependencyDepth,
  });
}
