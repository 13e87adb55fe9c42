/**
 * The in-process correlation engine: deliveries in, incidents with explanations, root causes and
 * candidate problems out. No database and no wall clock: deliveries are buffered and processed in
 * event-time order (a firing alert's `startsAt`, a resolved one's `endsAt`) behind a watermark
 * (the latest event time seen minus the allowed lateness); a delivery later than that is processed
 * on arrival. Ties go by delivery order, ids are counters, and every map is read in insertion
 * order, so the same stream always gives the same answer, and an out-of-order delivery within the
 * lateness gives the same answer as in order.
 *
 * Per event: deduplication by fingerprint (a re-send updates the alert; a fingerprint firing
 * again soon after it resolved is a flap of the same alert, marked flapping past N changes, and
 * stays where it is); a new alert is scored against the live incidents near it in the CMDB or in
 * text (see `score`), attached to the best above the threshold, merging incidents it bridges, or
 * opens its own incident. Root causes and problems are computed from the incidents on demand.
 */
import type { AlertInput, Severity } from '../alert.ts';
import { createTemplateIndex, type TemplateIndex } from '../similarity.ts';
import { resolveEngineConfig, type EngineConfig } from './config.ts';
import { Topology, type TopologyCi, type TopologyRelationship } from './topology.ts';

/** One delivery of one alert, in delivery order (`seq` from 0). */
export type EngineDelivery = { seq: number; deliveredAt: string; alert: AlertInput };

/** The CMDB the engine is given. */
export type EngineCmdb = {
  cis: readonly TopologyCi[];
  relationships: readonly TopologyRelationship[];
};

/** Why an alert is where it is. */
export type Explanation = {
  decision: 'new' | 'attach' | 'merge';
  /** The attach score (0 for a new incident that had no candidate). */
  score: number;
  /** Topology: hops to the nearest CI of the incident, and the path; null when not near. */
  hops: number | null;
  path: readonly string[];
  /** Best cosine similarity of the alert's template to the incident's templates. */
  text: number;
  /** Event-time seconds since the incident's first alert. */
  secondsSinceFirst: number;
  /** Incidents merged into this one by this alert. */
  merged: readonly string[];
  /** Processed behind the watermark: later than the allowed lateness. */
  late: boolean;
  /** The above in one sentence. */
  message: string;
};

/** One logical alert: one firing episode of one fingerprint. */
export type EngineAlert = {
  id: string;
  fingerprint: string;
  /** Its CI's CMDB name, when the CMDB knows it. */
  ci: string | null;
  title: string;
  severity: Severity;
  template: string;
  /** Event time it started, ms. */
  startsAt: number;
  firing: boolean;
  flapping: boolean;
  deliveries: number;
  explanation: Explanation;
};

/** A ranked root-cause candidate with the reason for its rank. */
export type RootCauseCandidate = { ci: string; score: number; reason: string };

/** An incident as it stands. */
export type EngineIncident = {
  id: string;
  firstAt: number;
  lastAt: number;
  alerts: readonly EngineAlert[];
  rootCause: readonly RootCauseCandidate[];
  /** The candidate problem it recurs in, if any. */
  problem: string | null;
};

/** What the engine made of the stream so far (call after flush() for the whole stream). */
export type EngineResult = {
  /** The incident of each processed delivery, by seq; null while still buffered. */
  incidentOf: (string | null)[];
  /** The alert of each processed delivery, by seq, with its explanation; null while buffered. */
  alertOf: (EngineAlert | null)[];
  incidents: EngineIncident[];
  /** Candidate problems: signature (root CI and template) → incident ids, first seen first. */
  problems: Map<string, string[]>;
};

type AlertState = {
  view: EngineAlert;
  incident: number;
  resolvedAt: number | null;
  templateId: number;
  /** Event times of its firing/resolved changes, within the flap window. */
  changes: number[];
};

type Incident = {
  id: number;
  firstAt: number;
  lastAt: number;
  alerts: AlertState[];
  /** Its alerting CIs, each with the event time it first alerted. */
  cis: Map<string, number>;
  /** Its template ids, with how many alerts have each. */
  templates: Map<number, number>;
};

type Event = { seq: number; at: number; delivery: EngineDelivery };

type Scored = {
  incident: Incident;
  hops: number | null;
  path: readonly string[];
  score: number;
  text: number;
  gap: number;
};

/** An incident's alerts on one CI: when, and with which templates. */
type CiEntry = { firstAt: number; lastAt: number; templates: Set<number> };

const SECOND = 1000;

/** The correlation engine over one CMDB snapshot; see the module comment. */
export class CorrelationEngine {
  readonly config: Readonly<EngineConfig>;
  readonly #topology: Topology;
  readonly #texts: TemplateIndex;
  readonly #pending: Event[] = [];
  #maxAt = -Infinity;
  readonly #byFingerprint = new Map<string, AlertState>();
  readonly #deliveryAlert: (AlertState | undefined)[] = [];
  readonly #incidents = new Map<number, Incident>();
  /** Union-find parent of merged incidents. */
  readonly #mergedInto = new Map<number, number>();
  /** Per CI and per template: the incidents with alerts there, with the latest event time. */
  readonly #recentByCi = new Map<string, Map<number, CiEntry>>();
  readonly #recentByTemplate = new Map<number, Map<number, number>>();
  #nextIncident = 1;
  #episodes = 0;

  /** Builds an engine on a loaded template index; use createCorrelationEngine(). */
  constructor(cmdb: EngineCmdb, texts: TemplateIndex, config: Readonly<EngineConfig>) {
    this.config = config;
    this.#texts = texts;
    this.#topology = new Topology(cmdb.cis, cmdb.relationships, {
      maxHops: config.maxHops,
      hubDegree: config.hubDegree,
      dependencyDepth: config.dependencyDepth,
    });
  }

  /** Takes one delivery; it is processed once the watermark passes its event time. */
  push(delivery: EngineDelivery): void {
    const at = eventTime(delivery);
    const event = { seq: delivery.seq, at, delivery };
    this.#maxAt = Math.max(this.#maxAt, at);
    const watermark = this.#maxAt - this.config.allowedLatenessMs;
    if (at <= watermark) this.#process(event, true);
    else this.#pending.splice(insertionPoint(this.#pending, event), 0, event);
    while (this.#pending.length > 0 && this.#pending[0]!.at <= watermark)
      this.#process(this.#pending.shift()!, false);
  }

  /** Processes every buffered delivery: the end of the stream. */
  flush(): void {
    for (const event of this.#pending.splice(0)) this.#process(event, false);
  }

  /** The incidents, their root causes and the candidate problems, as they stand. */
  result(): EngineResult {
    const incidents = new Map<number, EngineIncident>();
    for (const incident of this.#incidents.values())
      incidents.set(incident.id, {
        id: incidentName(incident.id),
        firstAt: incident.firstAt,
        lastAt: incident.lastAt,
        alerts: incident.alerts.map((a) => a.view),
        rootCause: this.#rankRootCauses(incident),
        problem: null,
      });
    // Recurrence: the same top root-cause CI with a similar dominant template (by the similarity
    // the text signal uses, so one failure reported by different tools still counts as one).
    const groups = new Map<string, { templateId: number; ids: string[] }[]>();
    for (const [id, incident] of incidents) {
      const root = incident.rootCause[0]?.ci;
      if (root === undefined) continue;
      const templateId = this.#dominantTemplate(this.#incidents.get(id)!, root);
      const clusters = groups.get(root) ?? [];
      groups.set(root, clusters);
      const same = clusters.find(
        (c) =>
          this.#texts.similarity(c.templateId, templateId) >= this.config.textCandidateThreshold,
      );
      if (same) same.ids.push(incident.id);
      else clusters.push({ templateId, ids: [incident.id] });
    }
    const problems = new Map<string, string[]>();
    for (const [root, clusters] of groups)
      for (const { templateId, ids } of clusters) {
        if (ids.length < 2) continue;
        problems.set(`${root}\u0000${this.#texts.template(templateId) ?? templateId}`, ids);
        for (const id of ids) incidents.get(incidentNumber(id))!.problem = `P-${ids[0]!}`;
      }
    const incidentOf = this.#deliveryAlert.map((state) =>
      state === undefined ? null : incidentName(this.#find(state.incident)),
    );
    const alertOf = this.#deliveryAlert.map((state) => state?.view ?? null);
    return { incidentOf, alertOf, incidents: [...incidents.values()], problems };
  }

  #process(event: Event, late: boolean): void {
    const { alert } = event.delivery;
    const firing = alert.status === 'firing';
    const fingerprint = fingerprintOf(alert);
    const startsAt = alert.startsAt ? Date.parse(alert.startsAt) : event.at;
    const known = this.#byFingerprint.get(fingerprint);
    if (known !== undefined && this.#sameAlert(known, firing, startsAt, event.at)) {
      this.#update(known, alert, firing, startsAt, event.at);
      this.#deliveryAlert[event.seq] = known;
      return;
    }
    const ci = this.#topology.resolve(alert.ci) ?? this.#topology.resolve(alert.service);
    const text = alert.description ? `${alert.title}\n${alert.description}` : alert.title;
    const templateId = this.#texts.add(text, alert.ci ?? ci);
    const at = firing ? event.at : Math.min(startsAt, event.at);
    const state: AlertState = {
      view: {
        id: `${fingerprint}#${++this.#episodes}`,
        fingerprint,
        ci,
        title: alert.title,
        severity: alert.severity,
        template: this.#texts.template(templateId) ?? '',
        startsAt: at,
        firing,
        flapping: false,
        deliveries: 1,
        explanation: emptyExplanation(late),
      },
      incident: 0,
      resolvedAt: firing ? null : event.at,
      templateId,
      changes: [],
    };
    this.#byFingerprint.set(fingerprint, state);
    this.#deliveryAlert[event.seq] = state;
    this.#cluster(state, at, late);
  }

  /** Whether a delivery is the known alert again (re-send, resolve, flap) or a new episode. */
  #sameAlert(known: AlertState, firing: boolean, startsAt: number, at: number): boolean {
    if (known.view.firing || !firing) return true;
    if (startsAt <= known.view.startsAt) return true;
    return known.resolvedAt !== null && at - known.resolvedAt <= this.config.refireGraceMs;
  }

  #update(
    state: AlertState,
    alert: AlertInput,
    firing: boolean,
    startsAt: number,
    at: number,
  ): void {
    const view = state.view;
    view.deliveries++;
    view.severity = alert.severity;
    view.title = alert.title;
    if (firing === view.firing) return;
    // A late re-send of the episode that already resolved does not reopen it.
    if (firing && startsAt <= view.startsAt && state.resolvedAt !== null) return;
    view.firing = firing;
    state.resolvedAt = firing ? null : at;
    const from = at - this.config.flapWindowMs;
    state.changes = [...state.changes.filter((t) => t >= from), at];
    if (state.changes.length >= this.config.flapChanges) view.flapping = true;
  }

  #cluster(state: AlertState, at: number, late: boolean): void {
    const scored = this.#scoreCandidates(state, at).sort(
      (a, b) => b.score - a.score || a.incident.id - b.incident.id,
    );
    const above = scored.filter(
      (s) =>
        s.score >= this.config.attachThreshold &&
        (s.hops !== null || this.config.textAloneAttaches),
    );
    const best = above[0];
    if (best === undefined) {
      const incident = this.#open(at);
      this.#join(incident, state, at);
      state.view.explanation = {
        ...emptyExplanation(late),
        score: scored[0]?.score ?? 0,
        message: `new incident: ${
          scored.length === 0
            ? 'no live incident near it in the CMDB or in text'
            : `best candidate ${incidentName(scored[0]!.incident.id)} scored ${round(scored[0]!.score)} < ${this.config.attachThreshold}`
        }`,
      };
      return;
    }
    const merged: string[] = [];
    for (const other of above.slice(1)) {
      // Merge only incidents this alert bridges in the CMDB, and within the size limit.
      if (best.hops === null || other.hops === null) continue;
      const target = best.incident;
      if (Math.abs(target.firstAt - other.incident.firstAt) > this.config.mergeStartGapMs) continue;
      if (target.alerts.length + other.incident.alerts.length > this.config.maxIncidentAlerts)
        continue;
      this.#merge(other.incident, target);
      merged.push(incidentName(other.incident.id));
    }
    this.#join(best.incident, state, at);
    const secondsSinceFirst = Math.round((at - best.incident.firstAt) / SECOND);
    const where =
      best.hops === null
        ? 'not near in the CMDB'
        : best.hops === 0
          ? `same CI ${best.path[0]!}`
          : `${best.path.join(' – ')} (${best.hops} hop${best.hops === 1 ? '' : 's'})`;
    state.view.explanation = {
      decision: merged.length > 0 ? 'merge' : 'attach',
      score: round(best.score),
      hops: best.hops,
      path: best.path,
      text: round(best.text),
      secondsSinceFirst,
      merged,
      late,
      message:
        `${incidentName(best.incident.id)}: ${where}; text similarity ${round(best.text)}; ` +
        `${secondsSinceFirst} s after its first alert; score ${round(best.score)}` +
        (merged.length > 0 ? `; merged ${merged.join(', ')}` : ''),
    };
  }

  /**
   * Scores the live incidents with an alert on a CI within the hop bound, or with a similar
   * template. The evidence is local: an incident scores as its best single alerting CI near the
   * new alert, with topology closeness 1/(1+hops) to that CI, text similarity to that CI's
   * templates, and time proximity exp(-gap/decay) to that CI's alerts, weighted. (Taking the
   * closest CI, the best template and the latest alert of the whole incident separately would let
   * a large incident match anything, and chain storms through noise.) A text-only candidate is
   * scored against the similar template and that template's latest alert in it, with no topology.
   */
  #scoreCandidates(state: AlertState, at: number): Scored[] {
    const found = new Map<number, Scored>();
    const keep = (scored: Scored) => {
      const seen = found.get(scored.incident.id);
      if (seen === undefined || scored.score > seen.score) found.set(scored.incident.id, scored);
    };
    const ci = state.view.ci;
    if (ci !== null)
      for (const [near, { hops, path }] of this.#topology.neighbourhood(ci))
        for (const [id, entry] of this.#recentByCi.get(near) ?? []) {
          const incident = this.#live(id, at);
          if (incident === null) continue;
          const gap = gapTo(at, entry.firstAt, entry.lastAt);
          if (gap > this.config.windowMs) continue;
          const text = this.#bestSimilarity(state.templateId, entry.templates.keys());
          keep({ incident, hops, path, text, gap, score: this.#weigh(hops, text, gap) });
        }
    const similar = [
      state.templateId,
      ...this.#texts
        .nearest(state.templateId, 10, this.config.textCandidateThreshold)
        .map((m) => m.templateId),
    ];
    for (const templateId of similar) {
      const text = this.#texts.similarity(state.templateId, templateId);
      for (const [id, lastAt] of this.#recentByTemplate.get(templateId) ?? []) {
        const incident = this.#live(id, at);
        if (incident === null || found.get(incident.id)?.hops != null) continue;
        const gap = Math.abs(at - lastAt);
        if (gap > this.config.windowMs) continue;
        keep({ incident, hops: null, path: [], text, gap, score: this.#weigh(null, text, gap) });
      }
    }
    return [...found.values()];
  }

  /** The incident an id ended up in, if it still takes alerts at event time `at`. */
  #live(id: number, at: number): Incident | null {
    const incident = this.#incidents.get(this.#find(id));
    if (incident === undefined) return null;
    const { windowMs, maxIncidentAgeMs, maxIncidentAlerts } = this.config;
    if (gapTo(at, incident.firstAt, incident.lastAt) > windowMs) return null;
    if (at - incident.firstAt > maxIncidentAgeMs) return null;
    if (incident.alerts.length >= maxIncidentAlerts) return null;
    return incident;
  }

  #bestSimilarity(templateId: number, others: Iterable<number>): number {
    let best = 0;
    for (const other of others) {
      best = Math.max(best, this.#texts.similarity(templateId, other));
      if (best >= 1) break;
    }
    return best;
  }

  /** Topology closeness, text similarity and time proximity, weighted (weights normalized). */
  #weigh(hops: number | null, text: number, gap: number): number {
    const { weights, timeDecayMs } = this.config;
    const topology = hops === null ? 0 : 1 / (1 + hops);
    const time = Math.exp(-gap / timeDecayMs);
    const total = weights.topology + weights.text + weights.time;
    return (weights.topology * topology + weights.text * text + weights.time * time) / total;
  }

  #open(at: number): Incident {
    const incident: Incident = {
      id: this.#nextIncident++,
      firstAt: at,
      lastAt: at,
      alerts: [],
      cis: new Map(),
      templates: new Map(),
    };
    this.#incidents.set(incident.id, incident);
    return incident;
  }

  #join(incident: Incident, state: AlertState, at: number): void {
    state.incident = incident.id;
    incident.alerts.push(state);
    incident.firstAt = Math.min(incident.firstAt, at);
    incident.lastAt = Math.max(incident.lastAt, at);
    const ci = state.view.ci;
    if (ci !== null) {
      incident.cis.set(ci, Math.min(incident.cis.get(ci) ?? Infinity, at));
      const byIncident = this.#recentByCi.get(ci) ?? new Map<number, CiEntry>();
      this.#recentByCi.set(ci, byIncident);
      const entry = byIncident.get(incident.id);
      if (entry === undefined)
        byIncident.set(incident.id, {
          firstAt: at,
          lastAt: at,
          templates: new Set([state.templateId]),
        });
      else {
        entry.firstAt = Math.min(entry.firstAt, at);
        entry.lastAt = Math.max(entry.lastAt, at);
        entry.templates.add(state.templateId);
      }
    }
    incident.templates.set(state.templateId, (incident.templates.get(state.templateId) ?? 0) + 1);
    touch(this.#recentByTemplate, state.templateId, incident.id, at);
  }

  /** Moves every alert of `from` into `into`; `from`'s id then resolves to `into`. */
  #merge(from: Incident, into: Incident): void {
    for (const state of from.alerts) {
      state.incident = into.id;
      into.alerts.push(state);
    }
    into.firstAt = Math.min(into.firstAt, from.firstAt);
    into.lastAt = Math.max(into.lastAt, from.lastAt);
    for (const [ci, at] of from.cis) into.cis.set(ci, Math.min(into.cis.get(ci) ?? Infinity, at));
    for (const [t, n] of from.templates) into.templates.set(t, (into.templates.get(t) ?? 0) + n);
    this.#incidents.delete(from.id);
    this.#mergedInto.set(from.id, into.id);
  }

  #find(id: number): number {
    let root = id;
    for (let up = this.#mergedInto.get(root); up !== undefined; up = this.#mergedInto.get(root))
      root = up;
    for (let x = id; x !== root;) {
      const up = this.#mergedInto.get(x)!;
      this.#mergedInto.set(x, root);
      x = up;
    }
    return root;
  }

  /**
   * Ranks the incident's CIs and their shared dependencies (within dependencyDepth, depended on by
   * at least two alerting CIs): score = share of the alerting CIs that are or depend on the
   * candidate, plus a bonus for alerting, plus one for alerting first. Ties: earlier alert, name.
   */
  #rankRootCauses(incident: Incident): RootCauseCandidate[] {
    const alerting = [...incident.cis.entries()].sort((a, b) => a[1] - b[1] || byName(a[0], b[0]));
    if (alerting.length === 0) return [];
    const first = alerting[0]![0];
    const dependents = new Map<string, string[]>();
    for (const [ci] of alerting) {
      dependents.set(ci, [...(dependents.get(ci) ?? []), ci]);
      for (const dependency of this.#topology.dependencies(ci).keys())
        dependents.set(dependency, [...(dependents.get(dependency) ?? []), ci]);
    }
    const ranked: (RootCauseCandidate & { at: number })[] = [];
    for (const [ci, covered] of dependents) {
      const at = incident.cis.get(ci);
      if (at === undefined && covered.length < 2) continue;
      const share = covered.length / alerting.length;
      const score =
        share +
        (at === undefined ? 0 : this.config.alertingBonus) +
        (ci === first ? this.config.firstAlertBonus : 0);
      const others = covered.filter((c) => c !== ci);
      const reason =
        `${others.length} of ${alerting.length} alerting CIs depend on it` +
        (others.length > 0
          ? ` (${others.slice(0, 5).join(', ')}${others.length > 5 ? ', …' : ''})`
          : '') +
        (at === undefined
          ? '; not alerting itself'
          : ci === first
            ? '; alerted first'
            : '; alerting');
      ranked.push({ ci, score: round(score), reason, at: at ?? Infinity });
    }
    ranked.sort((a, b) => b.score - a.score || a.at - b.at || byName(a.ci, b.ci));
    return ranked
      .slice(0, this.config.rootCauseCandidates)
      .map(({ ci, score, reason }) => ({ ci, score, reason }));
  }

  /**
   * The dominant template of an incident's alerts on its root-cause CI (of all its alerts when
   * that CI is not alerting): most alerts first, then the lower template id.
   */
  #dominantTemplate(incident: Incident, root: string): number {
    const own = incident.alerts.filter((a) => a.view.ci === root);
    const counts = new Map<number, number>();
    for (const a of own.length > 0 ? own : incident.alerts)
      counts.set(a.templateId, (counts.get(a.templateId) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]![0];
  }
}

/** Loads the text tools and returns an engine over a CMDB, with the defaults overridden. */
export async function createCorrelationEngine(
  cmdb: EngineCmdb,
  config: Partial<EngineConfig> = {},
): Promise<CorrelationEngine> {
  return new CorrelationEngine(cmdb, await createTemplateIndex(), resolveEngineConfig(config));
}

function eventTime(delivery: EngineDelivery): number {
  const { alert } = delivery;
  const when =
    (alert.status === 'resolved' && alert.endsAt) || alert.startsAt || delivery.deliveredAt;
  const at = Date.parse(when);
  return Number.isNaN(at) ? Date.parse(delivery.deliveredAt) : at;
}

/** The alert's fingerprint, or a stable key from what identifies it when the sender gave none. */
function fingerprintOf(alert: AlertInput): string {
  if (alert.fingerprint) return alert.fingerprint;
  const labels = Object.keys(alert.labels)
    .sort()
    .map((k) => [k, alert.labels[k]]);
  return JSON.stringify([alert.source ?? 'generic', alert.ci ?? '', alert.title, labels]);
}

/** Where an event goes in the pending buffer: after every event ordered before or with it. */
function insertionPoint(pending: readonly Event[], event: Event): number {
  let lo = 0;
  let hi = pending.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const m = pending[mid]!;
    if (m.at < event.at || (m.at === event.at && m.seq < event.seq)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function touch<K>(map: Map<K, Map<number, number>>, key: K, incident: number, at: number): void {
  const byIncident = map.get(key) ?? new Map<number, number>();
  map.set(key, byIncident);
  byIncident.set(incident, Math.max(byIncident.get(incident) ?? -Infinity, at));
}

/** How far an event time is from a span of event times (0 inside it). */
function gapTo(at: number, firstAt: number, lastAt: number): number {
  return at > lastAt ? at - lastAt : at < firstAt ? firstAt - at : 0;
}

function emptyExplanation(late: boolean): Explanation {
  return {
    decision: 'new',
    score: 0,
    hops: null,
    path: [],
    text: 0,
    secondsSinceFirst: 0,
    merged: [],
    late,
    message: 'new incident',
  };
}

function incidentName(id: number): string {
  return `E${id}`;
}

function incidentNumber(name: string): number {
  return Number(name.slice(1));
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
