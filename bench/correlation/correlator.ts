/**
 * The contract between bench/correlation and a correlator: what it is given (the alert stream in
 * delivery order and the CMDB it may see) and what it answers (incidents, root causes, problems).
 * The baselines implement it today; the correlation engine implements it when it plugs in, once
 * in process ("fast in-process mode") and once through the real pipeline (HTTP ingest → queue →
 * correlator → PostgreSQL), with the same answer shape, so one scorer judges all of them.
 */
import type { AlertInput } from '../../correlator/alert.ts';
import type { Cmdb } from './estate.ts';

/** One webhook delivery of one canonical alert, as a monitoring tool sent it. */
export type Delivery = {
  /** Position in delivery order, from 0; predictions are indexed by it. */
  seq: number;
  /** When it reached Tocsin (RFC 3339); may be long after the alert's own `startsAt`. */
  deliveredAt: string;
  /** What `POST /api/v1/ingest/generic` takes: one NDJSON line of a replay. */
  alert: AlertInput;
};

/** What a correlator made of a stream, as it stands once the whole stream is in. */
export type Prediction = {
  /** The incident of each delivery, by `seq`; null: in no incident (left alone as noise). */
  incidents: (string | null)[];
  /** Each incident's candidate root-cause CIs (CMDB names), best first. */
  rootCauses: Map<string, string[]>;
  /** The candidate problem of each incident that recurs; incidents not listed are in none. */
  problems: Map<string, string>;
};

/** How a correlator runs: in this process, or through the whole pipeline. */
export type CorrelatorMode = 'in-process' | 'pipeline';

/** Something that groups a stream of alerts into incidents: a baseline or the engine. */
export type Correlator = {
  name: string;
  mode: CorrelatorMode;
  correlate(stream: readonly Delivery[], cmdb: Cmdb): Promise<Prediction>;
};
