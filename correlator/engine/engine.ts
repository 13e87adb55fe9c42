/**
 * The in-process correlation engine: deliveries in, incidents with explanations, root causes and
 * dominant templates out (correlator/problems.ts mines recurring problems from incidents). No
 * database and no wall clock: deliveries wait `reorderMs` of event time (a firing alert's
 * `startsAt`, a resolved one's `endsAt`) in a buffer and are processed from it in event-time
 * order (with the default 0, on arrival); the timers run behind a watermark, the event time
 * processing has reached minus the allowed lateness, and a delivery that comes behind the
 * watermark is late (processed on arrival, and said so). Ties go by
 * delivery order, ids are counters, and every map is read in insertion order, so the same stream
 * always gives the same answer, and an out-of-order delivery within the lateness gives the same
 * answer as in order.
 *
 * Per event: deduplication by fingerprint (a re-send updates the alert; a late resolve of an
 * earlier firing leaves the current one firing, and a late re-send of an ended firing leaves it
 * resolved; a fingerprint firing again soon after it resolved is a flap of the same alert, marked
 * flapping past N changes, and stays where it is); a new alert is scored against the live
 * incidents near it in the CMDB or in text (see `score`), attached to the best above the
 * threshold or, near it in the CMDB, unlikely a coincidence at that distance (coincidenceLevel),
 * merging incidents it bridges, or opens its own incident. Root causes are computed from the
 * incidents on demand.
 */
import { worstSeverity, type AlertInput, type Severity } from '../alert.ts';
import { createTemplateIndex, type TemplateIndex } from '../similarity.ts';
import { BackgroundRate } from './background.ts';
import { CompanyTimes } from './company-times.ts';
import { HopShares } from './hop-shares.ts';
import { resolveEngineConfig, type EngineConfig } from './config.ts';
import { Topology, type TopologyCi, type TopologyRelationship } from './topology.ts';
import { Wording } from './wording.ts';

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
  /**
   * The chance that an unrelated alert would have landed this close this soon, against the
   * incident raising it (0 when the correction is off, or there was no candidate); topology
   * closeness counted for 1 − this.
   */
  chance: number;
  /**
   * For an attach to an incident of one alert: its chance of a coincidence counting how often
   * lone alerts have had company (see #loneCompany). Its presence on an attach (not a merge, nor
   * a late one) says the incident had one alert, whose company it was `secondsSinceFirst` after
   * (see CompanyTimes). Absent otherwise (and in explanations stored before).
   */
  lone?: number;
  /** Event-time seconds since the incident's first alert. */
  secondsSinceFirst: number;
  /** Incidents merged into this one by this alert. */
  merged: readonly string[];
  /** Processed behind the watermark: later than the allowed lateness. */
  late: boolean;
  /**
   * What placed it in its incident (attach and merge): `topology`, nearness in the CMDB;
   * `text-time`, text and time beyond chance where the CMDB could not place it
   * (textTimeAttaches; `chance` is then against any CI of the estate); `text`, text and time
   * alone (textAloneAttaches). Absent for a new incident (and in explanations stored before).
   */
  basis?: EvidenceBasis;
  /**
   * Resolves of an earlier firing of its fingerprint, delivered late, that it left firing: each
   * ended before its current firing began. Absent when none (and in explanations stored before).
   */
  ignoredLateResolves?: number;
  /**
   * Firing deliveries of a firing of its fingerprint that had already resolved (a flap's later
   * firing re-sent after its resolve), delivered late, that left it resolved. Absent when none.
   */
  ignoredLateResends?: number;
  /** The above in one sentence. */
  message: string;
  /**
   * Where the message names incidents (see explanation-refs.ts): the offsets of the engine's
   * incident names in it. Absent in explanations stored before, and in stored ones, whose
   * message names incidents by id at `incidentRefs` instead.
   */
  refs?: readonly number[];
  /** A stored explanation's references: where its message says "incident <id>". */
  incidentRefs?: readonly number[];
};

/** What placed an alert in its incident; see Explanation.basis. */
export type EvidenceBasis = 'topology' | 'text-time' | 'text';

/** One logical alert: one firing episode of one fingerprint. */
export type EngineAlert = {
  id: string;
  fingerprint: string;
  source: string;
  service: string | null;
  /** Its CI's CMDB name, when the CMDB knows it. */
  ci: string | null;
  title: string;
  severity: Severity;
  template: string;
  /** Event time it started, ms. */
  startsAt: number;
  firing: boolean;
  flapping: boolean;
  /** Firing/resolved changes seen. */
  changes: number;
  /** Resolved because no delivery came within its source's time to live. */
  expired: boolean;
  /** Put in its incident by a person: it stays there. */
  pinned: boolean;
  deliveries: number;
  explanation: Explanation;
};

/** An incident's place in its lifecycle, as the engine sees it. */
export type LifecycleState = 'open' | 'resolving' | 'resolved' | 'closed';

/** An incident as it stands after a change, for the live pipeline to store. */
export type EngineIncidentChange = {
  id: string;
  firstAt: number;
  lastAt: number;
  state: LifecycleState;
  /** While resolving: when it resolves unless an alert fires again. */
  resolvesAt: number | null;
  resolvedAt: number | null;
  /** Times it reopened. */
  reopened: number;
  alerts: readonly EngineAlert[];
  /** Firing (or flapping) alerts. */
  firing: number;
  severity: Severity;
  cis: readonly string[];
  rootCause: readonly RootCauseCandidate[];
  /** The dominant template of its root-cause CI's alerts (of all, when that CI is silent). */
  template: string | null;
};

/** A touched alert, with what the engine keeps of it beyond its view, for storage. */
export type EngineAlertChange = {
  alert: EngineAlert;
  incident: string;
  /** Event time it resolved (by its source, or by expiry); null while firing. */
  resolvedAt: number | null;
  /** Event times of its latest firing/resolved changes (at most flapChanges): its flap history. */
  recentChanges: readonly number[];
};

/** What changed since the last call of takeChanges(). */
export type EngineChanges = {
  alerts: EngineAlertChange[];
  incidents: EngineIncidentChange[];
  merged: { from: string; into: string }[];
};

/** An alert of an incident restored from storage: its view, and what the view derives. */
export type RestoredAlert = Pick<
  EngineAlert,
  | 'id'
  | 'fingerprint'
  | 'source'
  | 'service'
  | 'title'
  | 'severity'
  | 'startsAt'
  | 'firing'
  | 'flapping'
  | 'changes'
  | 'expired'
  | 'pinned'
  | 'deliveries'
> & {
  /** The CI as the alert named it (resolved against the CMDB again). */
  ci: string | null;
  description: string | null;
  resolvedAt: number | null;
  lastSeenAt: number;
  explanation: Explanation | null;
  /** The template the engine made of its first text; null: made again from title and description. */
  template: string | null;
  /** Event times of its latest firing/resolved changes, as takeChanges() reported them. */
  recentChanges: readonly number[];
};

/** An incident restored from storage, with its alerts. */
export type RestoredIncident = Pick<
  EngineIncidentChange,
  'firstAt' | 'lastAt' | 'state' | 'resolvesAt' | 'resolvedAt' | 'reopened'
> & {
  /** A person merged, split or moved alerts of it: never merged by the engine again. */
  manual: boolean;
  alerts: readonly RestoredAlert[];
};

/**
 * What a restore needs besides the incidents, for the restored engine to decide as one that never
 * stopped: where event time stood, and the text statistics' history.
 */
export type RestoreContext = {
  /** The latest event time the engine had seen (its `latest`), ms. */
  latest: number;
  /**
   * Templates of every alert the engine made, each once, in the order first made: added again in
   * that order, they rebuild the text statistics (template ids, IDF epochs) as they were.
   */
  templates: Iterable<string>;
};

/** How the engine keeps state: the bench keeps everything; the live pipeline evicts. */
export type EngineMode = {
  /** Keep each delivery's alert for result() (memory grows with the stream). */
  recordDeliveries: boolean;
  /** Forget incidents and alerts the watermark has left behind (memory stays flat). */
  evict: boolean;
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
  /** The dominant template of its root-cause CI's alerts (of all, when that CI is silent). */
  template: string | null;
};

/** What the engine made of the stream so far (call after flush() for the whole stream). */
export type EngineResult = {
  /** The incident of each processed delivery, by seq; null while still buffered. */
  incidentOf: (string | null)[];
  /** The alert of each processed delivery, by seq, with its explanation; null while buffered. */
  alertOf: (EngineAlert | null)[];
  incidents: EngineIncident[];
};

type AlertState = {
  view: EngineAlert;
  incident: number;
  resolvedAt: number | null;
  /** Latest event or receipt time of a delivery of it, for its time to live. */
  lastSeenAt: number;
  templateId: number;
  /**
   * Event times of its latest firing/resolved changes within the flap window (flapChanges at
   * most); replaced, never edited (most alerts never change: they share one empty list).
   */
  changes: readonly number[];
};

type Incident = {
  id: number;
  firstAt: number;
  lastAt: number;
  state: LifecycleState;
  resolvesAt: number | null;
  resolvedAt: number | null;
  reopened: number;
  manual: boolean;
  /** Ids merged into it, to forget with it. */
  absorbed: number[];
  alerts: AlertState[];
  /** Its alerting CIs, each with the event time it first alerted. */
  cis: Map<string, number>;
  /** Its template ids, with how many alerts have each. */
  templates: Map<number, number>;
};

/** A delivery at its event time; `late` when it came behind the watermark (see push). */
type Event = { seq: number; at: number; late: boolean; delivery: EngineDelivery };

type Scored = {
  incident: Incident;
  basis: EvidenceBasis;
  hops: number | null;
  /** The incident's CI it is near (its path is worked out for the chosen candidate only). */
  near: string | null;
  score: number;
  text: number;
  gap: number;
  chance: number;
  /**
   * For an incident of one alert: the chance of a coincidence weighed by how often a lone alert
   * turns out to be the first of an incident (see #loneCompany); null otherwise.
   */
  lone: number | null;
  /**
   * For a topology candidate the score refuses, with coincidenceLevel: the chance of a coincidence
   * exactly its hops away (see #ring), weighed for a lone alert's incident as `lone` is; null
   * otherwise.
   */
  ringChance: number | null;
  /** A lone alert's incident that may not take it: more likely a coincidence than its company. */
  vetoed?: boolean;
  /** A lone alert's incident among other lone alerts near the alert: company (see #loneCompany). */
  company?: boolean;
  /**
   * A text-time candidate that outscored the same incident's topology score: that score and its
   * hops, for the explanation (the CMDB placed the alert near it, too weakly alone).
   */
  topology?: { hops: number; score: number };
};

/**
 * An incident's alerts on one CI: when, and with which templates: the first inline and any
 * others in a list (most entries have one; every new alert near the CI reads them).
 */
type CiEntry = { firstAt: number; lastAt: number; template: number; others: number[] | null };

/** Adds a template to a CI entry's. */
function addTemplate(entry: CiEntry, template: number): void {
  if (template === entry.template || entry.others?.includes(template) === true) return;
  (entry.others ??= []).push(template);
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/**
 * The event time of the last timer scan at a watermark: scans run on a grid of event-time minutes,
 * so when they run is a function of the watermark alone, never of the deliveries' history.
 */
function scanTick(watermark: number): number {
  return Math.floor(watermark / MINUTE) * MINUTE;
}

/** The correlation engine over one CMDB snapshot; see the module comment. */
export class CorrelationEngine {
  readonly config: Readonly<EngineConfig>;
  #topology: Topology;
  readonly #texts: TemplateIndex;
  readonly #pending: Event[] = [];
  /** The latest event time seen. */
  #maxAt = -Infinity;
  /**
   * Event time as processing has reached it: the latest event time processed, or the reorder
   * buffer's horizon (#maxAt − reorderMs) once event time has passed it. The rates run on it and
   * the timers lag it by the allowed lateness; with reorderMs 0 it is #maxAt.
   */
  #clock = -Infinity;
  readonly #byFingerprint = new Map<string, AlertState>();
  readonly #deliveryAlert: (AlertState | undefined)[] = [];
  readonly #incidents = new Map<number, Incident>();
  /** Union-find parent of merged incidents. */
  readonly #mergedInto = new Map<number, number>();
  /** Per CI and per template: the incidents with alerts there, with the latest event time. */
  readonly #recentByCi = new Map<string, Map<number, CiEntry>>();
  readonly #recentByTemplate = new Map<number, Map<number, number>>();
  /** Alerts that opened their own incident, for the background rate (see #chance). */
  readonly #background: BackgroundRate<AlertState>;
  /** How far from their incidents' CIs the alerts placed by topology landed (see #chance). */
  readonly #landing: HopShares;
  readonly #company: CompanyTimes;
  #nextIncident = 1;
  #episodes = 0;
  readonly #mode: EngineMode;
  readonly #byId = new Map<string, AlertState>();
  /** Firing alerts, for their time to live; flapping resolved ones, for their cool-down. */
  readonly #firing = new Set<AlertState>();
  readonly #flapping = new Set<AlertState>();
  readonly #resolving = new Set<Incident>();
  /** The earliest resolvesAt in #resolving, or later: before it, the sweep has nothing to resolve. */
  #resolveDue = Infinity;
  /** The watermark at the last sweep of timers and state. */
  #sweptAt = -Infinity;
  readonly #dirtyAlerts = new Set<AlertState>();
  readonly #dirtyIncidents = new Set<number>();
  /** Incidents forgotten before their last changes were taken. */
  readonly #forgottenDirty = new Map<number, Incident>();
  #mergedLog: { from: string; into: string }[] = [];
  #processedLog: { seq: number; alertId: string }[] = [];

  /** Builds an engine on a loaded template index; use createCorrelationEngine(). */
  constructor(
    cmdb: EngineCmdb,
    texts: TemplateIndex,
    config: Readonly<EngineConfig>,
    mode: EngineMode = { recordDeliveries: true, evict: false },
  ) {
    this.config = config;
    this.#mode = mode;
    this.#texts = texts;
    this.#topology = topologyOf(cmdb, config);
    this.#background = new BackgroundRate<AlertState>(config.backgroundWindowMs);
    this.#landing = new HopShares(config.backgroundWindowMs, config.maxHops);
    this.#company = new CompanyTimes(config.backgroundWindowMs);
  }

  /**
   * Takes a new CMDB snapshot (the live pipeline's CMDB changed): alerts from now on are placed
   * and ranked on it. Everything else the engine holds — incidents, alerts with the CIs they
   * resolved to on arrival, flap times, text statistics, timers — stays, so a CMDB change never
   * makes the engine decide differently from one that ran through it.
   */
  replaceCmdb(cmdb: EngineCmdb): void {
    this.#topology = topologyOf(cmdb, this.config);
  }

  /**
   * Takes one delivery. It is processed once the latest event time passes its own by reorderMs
   * (at once with the default 0); then the timers run up to the new watermark. It is late when
   * its event time is behind the watermark as it arrives: one that waits in the reorder buffer is
   * processed in order, never late.
   */
  push(delivery: EngineDelivery): void {
    const at = eventTime(delivery);
    this.#maxAt = Math.max(this.#maxAt, at);
    const horizon = this.#maxAt - this.config.reorderMs;
    const late = at < Math.max(this.#clock, horizon) - this.config.allowedLatenessMs;
    const event = { seq: delivery.seq, at, late, delivery };
    if (at <= horizon && this.#pending.length === 0) this.#process(event);
    else this.#pending.splice(insertionPoint(this.#pending, event), 0, event);
    this.#release(horizon);
  }

  /** Processes every buffered delivery: the end of the stream. */
  flush(): void {
    this.#release(this.#maxAt);
  }

  /**
   * Processes the buffered deliveries up to `horizon` in event-time order, moves the clock to
   * it, and runs the timers up to the new watermark.
   */
  #release(horizon: number): void {
    while (this.#pending.length > 0 && this.#pending[0]!.at <= horizon)
      this.#process(this.#pending.shift()!);
    this.#clock = Math.max(this.#clock, horizon);
    this.#sweep(this.watermark);
  }

  /** The latest event time seen (ms; -Infinity before any). */
  get latest(): number {
    return this.#maxAt;
  }

  /**
   * Event time as processing has reached it (see #clock) minus the allowed lateness: what the
   * timers run on. The latest event time minus both reorderMs and the lateness, or later.
   */
  get watermark(): number {
    return this.#clock - this.config.allowedLatenessMs;
  }

  /**
   * Moves event time on without a delivery: the live pipeline's heartbeat when no alert has come
   * for a while (from its clock, the only place a wall clock enters), so that quiet incidents
   * still resolve. A replay has no idle time and never calls it.
   */
  advanceTo(at: number): void {
    if (at <= this.#maxAt) return;
    this.#maxAt = at;
    this.#release(at - this.config.reorderMs);
  }

  /** Deliveries held for reordering. */
  get buffered(): number {
    return this.#pending.length;
  }

  /** What changed since the last call: touched alerts and incidents, and merges. */
  takeChanges(): EngineChanges {
    const alerts = [...this.#dirtyAlerts].map((state): EngineAlertChange => ({
      alert: state.view,
      incident: incidentName(this.#find(state.incident)),
      resolvedAt: state.resolvedAt,
      recentChanges: [...state.changes],
    }));
    const incidents: EngineIncidentChange[] = [];
    const seen = new Set<number>();
    for (const id of this.#dirtyIncidents) {
      const incident = this.#incidents.get(this.#find(id)) ?? this.#forgottenDirty.get(id);
      if (incident === undefined || seen.has(incident.id)) continue;
      seen.add(incident.id);
      incidents.push(this.#describe(incident));
    }
    const merged = this.#mergedLog;
    this.#dirtyAlerts.clear();
    this.#dirtyIncidents.clear();
    this.#forgottenDirty.clear();
    this.#mergedLog = [];
    return { alerts, incidents, merged };
  }

  /** The deliveries processed since the last call, each with the alert it went to. */
  takeProcessed(): { seq: number; alertId: string }[] {
    const log = this.#processedLog;
    this.#processedLog = [];
    return log;
  }

  /** What these CIs depend on, in the impact direction, within dependencyDepth; nearest first. */
  dependenciesOf(cis: readonly string[]): string[] {
    const found = new Map<string, number>();
    for (const ci of cis)
      for (const [dependency, hops] of this.#topology.dependencies(ci))
        found.set(dependency, Math.min(found.get(dependency) ?? Infinity, hops));
    for (const ci of cis) found.delete(ci);
    return [...found.entries()].sort((a, b) => a[1] - b[1] || byName(a[0], b[0])).map(([c]) => c);
  }

  /** Whether the engine still holds an alert (by engine alert id). */
  hasAlert(id: string): boolean {
    return this.#byId.has(id);
  }

  /** Whether the engine still holds an incident (by engine incident id). */
  hasIncident(name: string): boolean {
    return this.#incidents.has(this.#find(incidentNumber(name)));
  }

  /** How many alerts the engine holds (cheap; `size` counts everything). */
  get alertCount(): number {
    return this.#byId.size;
  }

  /** How much state the engine holds, for metrics and the memory benchmark. */
  get size(): {
    incidents: number;
    alerts: number;
    firing: number;
    templates: number;
    ciLookups: number;
    templateLookups: number;
  } {
    let ciLookups = 0;
    for (const byIncident of this.#recentByCi.values()) ciLookups += byIncident.size;
    let templateLookups = 0;
    for (const byIncident of this.#recentByTemplate.values()) templateLookups += byIncident.size;
    return {
      incidents: this.#incidents.size,
      alerts: this.#byId.size,
      firing: this.#firing.size,
      templates: this.#texts.stats().templates,
      ciLookups,
      templateLookups,
    };
  }

  /** The incidents, their root causes and the candidate problems, as they stand. */
  result(): EngineResult {
    const incidents: EngineIncident[] = [];
    for (const incident of this.#incidents.values()) {
      const rootCause = this.#rankRootCauses(incident);
      incidents.push({
        id: incidentName(incident.id),
        firstAt: incident.firstAt,
        lastAt: incident.lastAt,
        alerts: incident.alerts.map((a) => a.view),
        rootCause,
        template:
          incident.alerts.length === 0
            ? null
            : (this.#texts.template(this.#dominantTemplate(incident, rootCause[0]?.ci ?? '')) ??
              null),
      });
    }
    const incidentOf = this.#deliveryAlert.map((state) =>
      state === undefined ? null : incidentName(this.#find(state.incident)),
    );
    const alertOf = this.#deliveryAlert.map((state) => state?.view ?? null);
    return { incidentOf, alertOf, incidents };
  }

  #process(event: Event): void {
    const { late } = event;
    this.#clock = Math.max(this.#clock, event.at);
    const { alert } = event.delivery;
    const firing = alert.status === 'firing';
    const fingerprint = fingerprintOf(alert);
    const startsAt = alert.startsAt ? Date.parse(alert.startsAt) : event.at;
    const seenAt = Math.max(event.at, Date.parse(event.delivery.deliveredAt) || event.at);
    const known = this.#byFingerprint.get(fingerprint);
    if (
      known !== undefined &&
      this.#sameAlert(
        known,
        firing,
        startsAt,
        event.at,
        Boolean(alert.startsAt) && Number.isFinite(startsAt),
      )
    ) {
      known.lastSeenAt = Math.max(known.lastSeenAt, seenAt);
      this.#update(known, alert, firing, startsAt, event.at);
      if (this.#mode.recordDeliveries) this.#deliveryAlert[event.seq] = known;
      this.#dirtyAlerts.add(known);
      if (!this.#mode.recordDeliveries)
        this.#processedLog.push({ seq: event.seq, alertId: known.view.id });
      return;
    }
    // A CI the CMDB does not know is still a CI: its own alerts group on it, by name.
    const ci =
      this.#topology.resolve(alert.ci) ?? this.#topology.resolve(alert.service) ?? alert.ci ?? null;
    const text = alert.description ? `${alert.title}\n${alert.description}` : alert.title;
    const templateId = this.#texts.add(text, alert.ci ?? ci);
    const at = firing ? event.at : Math.min(startsAt, event.at);
    const state: AlertState = {
      view: {
        // Joined: one flat string rather than a tree of its pieces (see #attach).
        id: [fingerprint, '#', ++this.#episodes].join(''),
        fingerprint,
        source: alert.source ?? 'generic',
        service: alert.service ?? null,
        ci,
        title: alert.title,
        severity: alert.severity,
        template: this.#texts.template(templateId) ?? '',
        startsAt: at,
        firing,
        flapping: false,
        changes: 0,
        expired: false,
        pinned: false,
        deliveries: 1,
        explanation: emptyExplanation(late),
      },
      incident: 0,
      resolvedAt: firing ? null : event.at,
      lastSeenAt: seenAt,
      templateId,
      changes: noChanges,
    };
    // The episode it replaces (resolved) stays held with its incident, as a restored engine holds
    // it, until the incident is forgotten: one still flapping cools down as any resolved flapping
    // alert does, rather than flap and hold its incident open for ever.
    this.#byFingerprint.set(fingerprint, state);
    this.#byId.set(state.view.id, state);
    if (firing) this.#firing.add(state);
    if (this.#mode.recordDeliveries) this.#deliveryAlert[event.seq] = state;
    this.#dirtyAlerts.add(state);
    if (!this.#mode.recordDeliveries)
      this.#processedLog.push({ seq: event.seq, alertId: state.view.id });
    this.#cluster(state, at, late);
  }

  /**
   * Whether a delivery is the known alert again (re-send, resolve, flap) or a new episode. A
   * resolve of a resolved alert is a new episode when it states a start later than the refire
   * grace after that alert resolved: it ends a firing the engine has not seen (its firing
   * delivery is late), a new episode as that firing would have been. Taken for the old one's, it
   * changes nothing there, and puts the new episode's delivery in the old one's incident, however
   * long ago (and its firing, when it comes, is a re-send of an ended firing).
   */
  #sameAlert(
    known: AlertState,
    firing: boolean,
    startsAt: number,
    at: number,
    stated: boolean,
  ): boolean {
    if (known.view.firing) return true;
    if (!firing)
      return (
        !stated ||
        known.resolvedAt === null ||
        startsAt - known.resolvedAt <= this.config.refireGraceMs
      );
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
    // What the alert says now; a state change only (PagerDuty's resolve carries no text) keeps
    // it, and so does a late delivery that is ignored: it speaks of an earlier firing.
    const says = () => {
      if ((alert as { partial?: boolean }).partial === true) return;
      view.severity = alert.severity;
      view.title = alert.title;
    };
    if (firing === view.firing) return says();
    // A late re-send of the episode that already resolved does not reopen it.
    if (firing && startsAt <= view.startsAt && state.resolvedAt !== null && !view.expired) return;
    if (firing && resendsEndedFiring(state, alert, startsAt)) {
      noteIgnored(
        state,
        'ignoredLateResends',
        'a late re-send of an ended firing left it resolved',
      );
      return;
    }
    if (!firing && resolvesEarlierFiring(state, alert, startsAt, at)) {
      noteIgnored(
        state,
        'ignoredLateResolves',
        'a late resolve of an earlier firing left it firing',
      );
      return;
    }
    says();
    view.firing = firing;
    view.expired = false;
    view.changes++;
    state.resolvedAt = firing ? null : at;
    if (firing) this.#firing.add(state);
    else this.#firing.delete(state);
    const from = at - this.config.flapWindowMs;
    // Only the latest flapChanges times can decide: flapping is that many within the window.
    state.changes = [...state.changes.filter((t) => t >= from), at].slice(
      -Math.max(1, this.config.flapChanges),
    );
    if (state.changes.length >= this.config.flapChanges) view.flapping = true;
    if (view.flapping && !firing) this.#flapping.add(state);
    const incident = this.#incidents.get(this.#find(state.incident));
    if (incident !== undefined) this.#lifecycle(incident, at);
  }

  #cluster(state: AlertState, at: number, late: boolean): void {
    const scored = this.#scoreCandidates(state, at).sort(
      (a, b) => b.score - a.score || a.incident.id - b.incident.id,
    );
    // Only candidates that may attach are scored (see #scoreCandidates).
    const above = scored.filter((s) => this.#takes(s));
    const best = above[0];
    if (best === undefined) {
      const incident = this.#open(at);
      this.#join(incident, state, at);
      this.#background.record(at, this.#clock, state);
      const top = scored[0];
      const said = new Wording().text('new incident: ');
      if (top === undefined) said.text('no live incident near it in the CMDB or in text');
      else if (top.vetoed === true)
        said
          .text('best candidate ')
          .incident(incidentName(top.incident.id))
          .text(
            ` is one alert, more likely a coincidence than its company (chance of a coincidence ` +
              `${round(top.lone ?? 1)}, counting how often lone alerts have had company` +
              (top.basis === 'topology' ? ', and how near)' : ')'),
          );
      else
        said
          .text('best candidate ')
          .incident(incidentName(top.incident.id))
          .text(
            ` scored ${round(top.score)} < ${this.config.attachThreshold}` +
              (top.chance > 0 ? ` (chance of a coincidence ${round(top.chance)})` : '') +
              (top.ringChance === null
                ? ''
                : `, and a coincidence exactly ${top.hops} hop${top.hops === 1 ? '' : 's'} ` +
                  `away is not unlikely enough (${round(top.ringChance)} ≥ ${this.config.coincidenceLevel})`),
          );
      const { message, refs } = said.done();
      // Spelled out in full: a spread followed by more keys takes V8's slow path and makes an
      // object with its properties out of line, and one is held with every alert.
      state.view.explanation = {
        decision: 'new',
        score: top?.score ?? 0,
        hops: null,
        path: none,
        text: 0,
        chance: round((top?.vetoed === true ? top.lone : top?.chance) ?? 0),
        secondsSinceFirst: 0,
        merged: none,
        late,
        message,
        refs,
      };
      return;
    }
    const merged: string[] = [];
    for (const other of above.slice(1)) {
      // Merge only incidents this alert bridges in the CMDB, and within the size limit.
      if (best.hops === null || other.hops === null) continue;
      const target = best.incident;
      if (!this.#mayMerge(other.incident, target)) continue;
      this.#merge(other.incident, target);
      merged.push(incidentName(other.incident.id));
    }
    const fragments = new Map<string, Wording>();
    const taken = this.#placedChance(best);
    if (taken !== null) {
      this.#mergeFragments(best, taken, scored, merged, fragments);
      this.#mergeTextFragments(best, taken, state, at, merged, fragments);
    }
    this.#join(best.incident, state, at);
    if (best.basis === 'topology' && best.hops !== null)
      this.#landing.record(at, this.#clock, best.hops);
    const secondsSinceFirst = Math.round((at - best.incident.firstAt) / SECOND);
    const path =
      best.near === null ? [] : (this.#topology.path(state.view.ci!, best.near) ?? [best.near]);
    const where =
      best.hops === null
        ? this.#whereUnplaced(state, best)
        : best.hops === 0
          ? `same CI ${path[0]!}`
          : `${path.join(' – ')} (${best.hops} hop${best.hops === 1 ? '' : 's'})`;
    // The message's clauses are joined, not concatenated: V8 keeps a string built with `+` or a
    // template as a tree of its pieces (32 bytes a node) for as long as it lives, and the engine
    // holds every alert's explanation with the alert; a join writes one flat string.
    const clauses = [
      `text similarity ${round(best.text)}`,
      `${secondsSinceFirst} s after its first alert` +
        (best.basis === 'text-time'
          ? `, ${Math.round(best.gap / SECOND)} s after its alert with that text`
          : ''),
    ];
    if (best.basis !== 'text' && this.config.chanceCorrection)
      clauses.push(
        `chance of a coincidence ${round(best.chance)}` +
          (best.basis === 'text-time'
            ? ' (anywhere in the estate' +
              (best.lone === null
                ? ')'
                : `; ${round(best.lone)} counting how often lone alerts have had company)`)
            : best.lone === null
              ? ''
              : ` (${round(best.lone)} counting how often lone alerts have had company, and how near` +
                (best.company === true ? '; lone alerts near it are company)' : ')')),
      );
    clauses.push(
      best.score >= this.config.attachThreshold
        ? `score ${round(best.score)}`
        : `score ${round(best.score)} < ${this.config.attachThreshold}, taken as a coincidence ` +
            `exactly ${best.hops} hop${best.hops === 1 ? '' : 's'} away is unlikely (chance ` +
            `${round(best.ringChance ?? 1)} < ${this.config.coincidenceLevel}, weighing how far ` +
            `from their incidents alerts have landed lately)`,
    );
    const said = new Wording()
      .incident(incidentName(best.incident.id))
      .text(`: ${where}; `)
      .text(clauses.join('; '));
    const bridged = merged.filter((name) => !fragments.has(name));
    bridged.forEach((name, i) => said.text(i === 0 ? '; merged ' : ', ').incident(name));
    for (const [name, why] of fragments)
      said.text('; merged ').incident(name).text(', ').append(why);
    const { message, refs } = said.done();
    const explanation: Explanation = {
      decision: merged.length > 0 ? 'merge' : 'attach',
      score: round(best.score),
      hops: best.hops,
      // Copied to its size: built by push, it has room for 16 more CI names.
      path: path.length > 0 ? path.slice() : none,
      text: round(best.text),
      chance: round(best.chance),
      secondsSinceFirst,
      merged: merged.length > 0 ? merged : none,
      late,
      basis: best.basis,
      message,
      refs,
    };
    if (best.lone !== null) explanation.lone = round(best.lone);
    state.view.explanation = explanation;
    // From the explanation, as a restore counts it.
    const company = loneCompanyGap(explanation);
    if (company !== null) this.#company.record(at, this.#clock, company);
  }

  /**
   * Merges into the alert's incident the fragments of its cascade that would not take it
   * (fragmentMerges): the other live incidents near it in the CMDB, started within
   * mergeStartGapMs, for which the alert is likelier than not the company of both, (1 − its own
   * incident's chance of a coincidence) × (1 − the other's chance of a coincidence exactly that
   * many hops away) > ½. The other's is the hop-aware chance (coincidenceLevel), the one the
   * engine trusts over the score's for incidents of few alerts; a lone alert's incident is weighed
   * by how often lone alerts have had company, is never merged when that makes it likelier a
   * coincidence (vetoed), and only when its CI is within maxHops of the alert's incident too (that
   * chance is the one the engine under-states most). `taken` is the alert's own incident's chance
   * (#placedChance). Pushes each onto `merged`, and why it was onto `why`, by name.
   */
  #mergeFragments(
    best: Scored,
    taken: number,
    scored: readonly Scored[],
    merged: string[],
    why: Map<string, Wording>,
  ): void {
    const target = best.incident;
    if (!this.config.fragmentMerges) return;
    for (const other of scored) {
      const { incident, ringChance, hops } = other;
      if (other.basis !== 'topology' || hops === null || ringChance === null) continue;
      if (other.vetoed === true || this.#takes(other) || !this.#mayMerge(incident, target))
        continue;
      const bar = this.#companyOfBoth(taken, ringChance);
      if (bar === null) continue;
      // A lone alert's stated chance is the least trusted: the CMDB must close the triangle
      // (asked last: it walks the CIs around the lone alert's).
      const lone = incident.alerts.length === 1;
      if (lone && !this.#nearIncident(other.near!, target)) continue;
      const reason = new Wording().text(
        `a fragment of the same cascade: the alert is ${hops} hop${hops === 1 ? '' : 's'} from ` +
          `its CI ${other.near!} (score ${round(other.score)}, chance of a coincidence exactly ` +
          `that far ${round(ringChance)}), ${bar}`,
      );
      if (lone)
        reason
          .text(`; its one alert's CI is within ${this.config.maxHops} hops of `)
          .incident(incidentName(target.id))
          .text("'s");
      this.#absorb(incident, target, merged, why, reason);
    }
  }

  /**
   * Merges into the alert's incident the fragments of its cascade the CMDB cannot join
   * (textFragmentMerges): when the alert is placed by topology, the other live incidents of more
   * than one alert holding the alert's own template, started within mergeStartGapMs, for which
   * the alert is likelier than not the company of both, as in #mergeFragments, the other's chance
   * of a coincidence being the text-time one (an unrelated alert anywhere in the estate this soon,
   * see #scoreCandidates).
   * A lone alert's incident never: its stated chance is the one the engine under-states most, and
   * here no CMDB closes the triangle. Pushes each onto `merged`, and why it was onto `why`.
   */
  #mergeTextFragments(
    best: Scored,
    taken: number,
    state: AlertState,
    at: number,
    merged: string[],
    why: Map<string, Wording>,
  ): void {
    const target = best.incident;
    const { textFragmentMerges, chanceCorrection } = this.config;
    if (!textFragmentMerges || !chanceCorrection) return;
    const anywhere = this.#background.perCi(this.#clock, 1);
    if (!(anywhere > 0)) return;
    for (const [id, lastAt] of [...(this.#recentByTemplate.get(state.templateId) ?? [])]) {
      const incident = this.#live(id, at);
      if (incident === null || incident === target || !this.#mayMerge(incident, target)) continue;
      if (incident.alerts.length < 2) continue;
      const gap = Math.abs(at - lastAt);
      if (gap > this.config.windowMs) continue;
      // Its rate of this template: its alerts spread over the templates they came with.
      const share = (incident.templates.get(state.templateId) ?? 0) / incident.alerts.length;
      const chance = this.#chance(anywhere, incident, 1, gap, 1, share);
      const bar = this.#companyOfBoth(taken, chance);
      if (bar === null) continue;
      this.#absorb(
        incident,
        target,
        merged,
        why,
        new Wording().text(
          `a fragment of the same cascade the CMDB does not join: it holds the alert's template, ` +
            `its alert with it ${Math.round(gap / SECOND)} s before (chance of a coincidence ` +
            `anywhere in the estate ${round(chance)}), ${bar}`,
        ),
      );
    }
  }

  /**
   * The bar both fragment merges hold a fragment to: the alert likelier than not the company of
   * both incidents, (1 − the chance its own placement is a coincidence, `taken`) × (1 − the
   * other's, `theirs`) > ½, the bar a lone alert's company is held to. The explanation's words for
   * it when it is met; null when it is not.
   */
  #companyOfBoth(taken: number, theirs: number): string | null {
    const both = (1 - taken) * (1 - theirs);
    if (!(both > 0.5)) return null;
    return `likelier than not the company of both (${round(1 - taken)} × ${round(1 - theirs)} = ${round(both)} > 0.5)`;
  }

  /**
   * The chance that the alert's placement is a coincidence, as the fragment merges weigh it: the
   * one its attach was decided on (the score's, or the hop-aware one when the score refused).
   * Null when they do not apply: an alert not placed by topology, or an incident a person made.
   */
  #placedChance(best: Scored): number | null {
    if (best.basis !== 'topology' || best.incident.manual) return null;
    return best.score >= this.config.attachThreshold ? (best.lone ?? best.chance) : best.ringChance;
  }

  /**
   * Whether the engine may merge `other` into `target`: neither is a person's (a split or merge a
   * person made stands), they started within mergeStartGapMs, and together they stay within
   * maxIncidentAlerts.
   */
  #mayMerge(other: Incident, target: Incident): boolean {
    return (
      !target.manual &&
      !other.manual &&
      Math.abs(target.firstAt - other.firstAt) <= this.config.mergeStartGapMs &&
      target.alerts.length + other.alerts.length <= this.config.maxIncidentAlerts
    );
  }

  /** Merges a fragment into the alert's incident, noting it on `merged` and why on `why`. */
  #absorb(
    fragment: Incident,
    target: Incident,
    merged: string[],
    why: Map<string, Wording>,
    reason: Wording,
  ): void {
    this.#merge(fragment, target);
    const name = incidentName(fragment.id);
    merged.push(name);
    why.set(name, reason);
  }

  /** Whether one of an incident's alerting CIs is within maxHops of a CI in the CMDB. */
  #nearIncident(ci: string, incident: Incident): boolean {
    for (const near of this.#topology.near(ci).cis) if (incident.cis.has(near)) return true;
    return false;
  }

  /**
   * Scores the live incidents with an alert on a CI within the hop bound, or with a similar
   * template. The evidence is local: an incident scores as its best single alerting CI near the
   * new alert, with topology closeness 1/(1+hops) to that CI, text similarity to that CI's
   * templates, and time proximity exp(-gap/decay) to that CI's alerts, weighted. (Taking the
   * closest CI, the best template and the latest alert of the whole incident separately would let
   * a large incident match anything, and chain storms through noise.) A text-only candidate is
   * scored against the similar template and that template's latest alert in it, with no topology.
   * Topology closeness counts for 1 − the candidate's chance of a coincidence (see #chance).
   * Where the CMDB says nothing of the alert (textTimeAttaches), text-similar incidents are
   * candidates on text and time, counted for 1 − the chance of a coincidence anywhere in the
   * estate (see #weighTextTime).
   */
  #scoreCandidates(state: AlertState, at: number): Scored[] {
    const found = new Map<number, Scored>();
    const keep = (scored: Scored) => {
      const seen = found.get(scored.incident.id);
      if (seen !== undefined && !(scored.score > seen.score)) return;
      if (seen?.hops != null) scored.topology = { hops: seen.hops, score: seen.score };
      found.set(scored.incident.id, scored);
    };
    const ci = state.view.ci;
    // Once per alert, from a count over the window (never over the estate).
    const perCi = this.config.chanceCorrection
      ? this.#background.perCi(this.#clock, this.#topology.size)
      : 0;
    // Asked only of a candidate with one alert, at most once per alert.
    let growth: number | undefined;
    const growthShare = () => (growth ??= this.#growthShare());
    let paced: number | undefined;
    const companyPace = () =>
      (paced ??= this.#company.meanGap(this.#clock, this.config.timeDecayMs));
    const weighLone = this.config.chanceCorrection && this.config.loneIncidentChance;
    const known = new Map<number, number>();
    const around = ci === null ? null : this.#topology.around(ci);
    if (around !== null)
      for (let i = 0; i < around.cis.length; i++) {
        const near = around.cis[i]!;
        const hops = around.hops[i]!;
        const entries = this.#recentByCi.get(near);
        if (entries === undefined) continue;
        let ring: [room: number, share: number] | undefined;
        for (const [id, entry] of entries) {
          // The entry's own window first: most entries met on the way are old, and this check
          // is cheaper than finding the incident an id ended up in.
          const gap = gapTo(at, entry.firstAt, entry.lastAt);
          if (gap > this.config.windowMs) continue;
          const incident = this.#live(id, at);
          if (incident === null) continue;
          // Scored only if it beats the incident's best so far: most do not (an incident near
          // the alert has alerts on many CIs around it, met nearest first). Its score is at most
          // what identical text and no chance of a coincidence would make it, so most are passed
          // over before their text and chance are weighed.
          const seen = found.get(incident.id);
          if (seen !== undefined && seen.score >= this.#weigh(hops, 1, gap, 0)) continue;
          const text = this.#bestSimilarity(state.templateId, entry, known);
          const room = around.rooms[i]!;
          const chance = this.#chance(perCi, incident, room, gap);
          const score = this.#weigh(hops, text, gap, chance);
          if (seen !== undefined && seen.score >= score) continue;
          const lone =
            weighLone && incident.alerts.length === 1
              ? this.#chance(
                  perCi,
                  incident,
                  room,
                  gap,
                  growthShare(),
                  this.#landing.shareWithin(this.#clock, hops),
                  companyPace(),
                )
              : null;
          // Asked only where the score refuses: a score at the threshold takes the alert anyway.
          let ringChance: number | null = null;
          if (
            score < this.config.attachThreshold &&
            this.config.coincidenceLevel > 0 &&
            perCi > 0
          ) {
            ring ??= this.#ring(room - around.inner[i]!, hops);
            const alone = weighLone && incident.alerts.length === 1;
            // Its rate near this one of its CIs: its alerts spread over the CIs they came from.
            const spread = ring[1] / Math.max(1, incident.cis.size);
            const live = alone ? growthShare() : 1;
            const pace = alone ? companyPace() : this.config.timeDecayMs;
            ringChance = this.#chance(perCi, incident, ring[0], gap, live, spread, pace);
          }
          found.set(incident.id, {
            incident,
            basis: 'topology',
            hops,
            near,
            text,
            gap,
            chance,
            lone,
            ringChance,
            score,
          });
        }
      }
    if (weighLone) this.#loneCompany(found);
    // Text-only candidates can decide nothing unless text may attach: the inverted-index search
    // is the engine's single largest cost, so it runs only then.
    const alone = this.config.textAloneAttaches;
    if (!alone && !this.#textTimeApplies(ci, found)) return [...found.values()];
    // Text and time go by the alert's own template only. A restored index answers nearest() as
    // the uninterrupted one does (the restore divergence once blamed on it came from merged
    // incidents' lookups; see #merge), but placing alerts by lookalike templates is unmeasured.
    const similar = alone
      ? [
          state.templateId,
          ...this.#texts
            .nearest(state.templateId, 10, this.config.textCandidateThreshold)
            .map((m) => m.templateId),
        ]
      : [state.templateId];
    for (const templateId of similar) {
      const text = this.#texts.similarity(state.templateId, templateId);
      for (const [id, lastAt] of this.#recentByTemplate.get(templateId) ?? []) {
        const incident = this.#live(id, at);
        if (incident === null) continue;
        // Text alone never outbids the CMDB; text and time beyond chance may (the CMDB is wrong).
        if (alone && found.get(incident.id)?.hops != null) continue;
        const gap = Math.abs(at - lastAt);
        if (gap > this.config.windowMs) continue;
        if (alone) {
          const score = this.#weigh(null, text, gap, 0);
          const scored = { incident, basis: 'text', hops: null, near: null, text, gap } as const;
          keep({ ...scored, chance: 0, lone: null, ringChance: null, score });
          continue;
        }
        // Anywhere in the estate: the whole background rate, which needs no CMDB to count.
        const anywhere = this.config.chanceCorrection ? this.#background.perCi(this.#clock, 1) : 0;
        const chance = this.#chance(anywhere, incident, 1, gap);
        // A lone alert's incident is weighed as on topology (see #loneCompany): it takes the
        // alert only when that is likelier its company than a coincidence.
        const lone =
          weighLone && incident.alerts.length === 1
            ? this.#chance(anywhere, incident, 1, gap, growthShare(), 1, companyPace())
            : null;
        // Spelled out, not spread: a spread followed by more keys takes V8's slow path, and
        // this runs for every incident holding the template in the window.
        const vetoed = lone !== null && lone > 0.5;
        keep({
          incident,
          basis: 'text-time',
          hops: null,
          near: null,
          text,
          gap,
          chance,
          lone,
          ringChance: null,
          score: vetoed ? 0 : this.#weighTextTime(text, gap, chance),
          vetoed,
        });
      }
    }
    return [...found.values()];
  }

  /**
   * Whether text and time may place an alert (textTimeAttaches): its CI is one the CMDB cannot
   * place, or (`unmatched`) no incident near it in the CMDB would take it.
   */
  #textTimeApplies(ci: string | null, found: ReadonlyMap<number, Scored>): boolean {
    switch (this.config.textTimeAttaches) {
      case 'never':
        return false;
      case 'unplaced':
        return ci === null || !this.#topology.placed(ci);
      case 'unmatched':
        for (const s of found.values()) if (this.#takes(s)) return false;
        return true;
    }
  }

  /** How the explanation says where an alert placed without topology stands in the CMDB. */
  #whereUnplaced(state: AlertState, best: Scored): string {
    const ci = state.view.ci;
    if (ci === null) return 'no CI to place in the CMDB';
    if (this.#topology.resolve(ci) === null) return `${ci} not in the CMDB`;
    if (!this.#topology.placed(ci)) return `${ci} has no relationship in the CMDB`;
    const near = best.topology;
    return near === undefined
      ? 'not near in the CMDB'
      : `${near.hops} hop${near.hops === 1 ? '' : 's'} from it in the CMDB (topology score ` +
          `${round(near.score)}` +
          (near.score < this.config.attachThreshold
            ? ` < ${this.config.attachThreshold}, too weak alone)`
            : ')');
  }

  /** The incident an id ended up in, if it still takes alerts at event time `at`. */
  #live(id: number, at: number): Incident | null {
    const incident = this.#incidents.get(this.#find(id));
    if (incident === undefined || incident.state === 'closed') return null;
    const { windowMs, maxIncidentAgeMs, maxIncidentAlerts } = this.config;
    if (gapTo(at, incident.firstAt, incident.lastAt) > windowMs) return null;
    if (at - incident.firstAt > maxIncidentAgeMs) return null;
    if (incident.alerts.length >= maxIncidentAlerts) return null;
    return incident;
  }

  /**
   * The best similarity of the alert's template to any of a CI entry's, each pair's taken from
   * `known` when this alert has met that template already (an alert meets the same few templates
   * on many candidates: in a busy window, most of its hundred-odd candidates share a handful).
   */
  #bestSimilarity(templateId: number, entry: CiEntry, known: Map<number, number>): number {
    let best = this.#knownSimilarity(templateId, entry.template, known);
    const others = entry.others;
    if (others !== null)
      for (let i = 0; i < others.length && best < 1; i++)
        best = Math.max(best, this.#knownSimilarity(templateId, others[i]!, known));
    return best;
  }

  #knownSimilarity(templateId: number, other: number, known: Map<number, number>): number {
    let similarity = known.get(other);
    if (similarity === undefined) {
      similarity = this.#texts.similarity(templateId, other);
      known.set(other, similarity);
    }
    return similarity;
  }

  /**
   * The chance that an alert landing among `room` CIs around the incident (those within its hops
   * of the incident's CI near it; the whole estate when the CMDB cannot place it), `gap` after
   * the incident's alerts there, is a coincidence rather than the incident's: of the two rates at
   * which alerts come there, the share of the unrelated one. Unrelated alerts land there at the
   * background rate per CI (`perCi`) times the room. The incident raises alerts at its own rate,
   * its alerts over its span plus one decay time (a lone alert: one per decay time), faded by the
   * gap as the time proximity is, and weighted by the chance that it is an incident that raises
   * alerts at all (`live`; 1 but for a lone alert's, see #loneCompany). A lone alert's pace is
   * how soon lone alerts' company has come lately (`timeDecayMs`, see CompanyTimes). O(1): ball
   * sizes are cached, the rate is taken once per alert.
   */
  #chance(
    perCi: number,
    incident: Incident,
    room: number,
    gap: number,
    live = 1,
    share = 1,
    timeDecayMs = this.config.timeDecayMs,
  ): number {
    if (perCi <= 0) return 0;
    const unrelated = perCi * room;
    const own =
      ((live * share * incident.alerts.length) /
        (incident.lastAt - incident.firstAt + timeDecayMs)) *
      Math.exp(-gap / timeDecayMs);
    return own > 0 ? unrelated / (unrelated + own) : 1;
  }

  /**
   * Whether a lone alert's incident may take the alert (loneIncidentChance). A lone alert is not
   * yet an incident that raises alerts: most in a busy estate are background alerts that never
   * have company, so crediting it with the rate of a cascade's first alert (one more alert per
   * decay time) under-states the chance of a coincidence. Its rate counts only as often as a lone
   * alert turns out to be the first of an incident (see #growthShare), at the pace at which lone
   * alerts' company has lately come (see CompanyTimes), and, near it in the CMDB, only for the
   * share of its company that lands within that many hops (see HopShares): the unrelated rate is
   * that of the CIs that near, the incident's must be too. The alert may not join it when that
   * makes a coincidence the likelier (a chance above ½): it opens its own incident, which a third
   * alert near both may merge with it. Unless two or more lone alerts near it would
   * take it (each scores the attach threshold): then they are each other's company (three alerts
   * close in the CMDB and in time), and the alert joins the best and merges the others, as the
   * attach rule says.
   */
  #loneCompany(found: Map<number, Scored>): void {
    let taking = 0;
    for (const s of found.values()) if (s.lone !== null && this.#takes(s)) taking++;
    for (const s of found.values()) {
      if (s.lone === null) continue;
      if (taking > 1) s.company = true;
      else if (s.lone > 0.5) {
        s.vetoed = true;
        s.score = 0;
      }
    }
  }

  /**
   * The room an unrelated alert has to land exactly `hops` from an incident's CI, and the share
   * of the incident's own alerts that land that far, for the hop-aware chance (see
   * coincidenceLevel): the CIs in that ring (`ring`), and the share of the alerts placed by
   * topology lately that landed that far (see HopShares).
   */
  #ring(ring: number, hops: number): [room: number, share: number] {
    return [Math.max(1, ring), this.#landing.share(this.#clock, hops)];
  }

  /**
   * Whether a candidate may take the alert: its score reaches the attach threshold, or, near the
   * alert in the CMDB, its chance of a coincidence is below coincidenceLevel (a lone alert's
   * incident by its lone chance, see decisionChance): unlikely a coincidence, whatever its score.
   */
  #takes(s: Scored): boolean {
    if (s.vetoed === true) return false;
    if (s.score >= this.config.attachThreshold) return true;
    return s.ringChance !== null && s.ringChance < this.config.coincidenceLevel;
  }

  /**
   * How often a lone alert is the first of an incident: of the alerts that opened their own
   * incident over the background window and at least windowMs ago (a second alert would have come
   * by now), the share whose incident took another alert (see BackgroundRate.growthShare). From
   * the openers and the incidents they are in, as a restore rebuilds them.
   */
  #growthShare(): number {
    return this.#background.growthShare(this.#clock, this.config.windowMs, (opener) => {
      const incident = this.#incidents.get(this.#find(opener.incident));
      return incident !== undefined && incident.alerts.length > 1;
    });
  }

  /**
   * Topology closeness, counted for 1 − the chance of a coincidence (what a coincidence fakes is
   * landing that close; the chance already weighs the gap, so time proximity is not scaled), text
   * similarity and time proximity, weighted (weights normalized).
   */
  #weigh(hops: number | null, text: number, gap: number, chance: number): number {
    const { weights, timeDecayMs } = this.config;
    const topology = hops === null ? 0 : 1 / (1 + hops);
    const time = Math.exp(-gap / timeDecayMs);
    const total = weights.topology + weights.text + weights.time;
    const placed = weights.topology * topology * (1 - chance) + weights.time * time;
    return (placed + weights.text * text) / total;
  }

  /**
   * The score of a text-time candidate: text similarity and time proximity weighted as in #weigh
   * without topology (renormalized: the CMDB's silence is no evidence against), times 1 − the
   * chance of a coincidence anywhere in the estate, so that only a burst that unrelated alerts
   * rarely match can place an alert the CMDB cannot.
   */
  #weighTextTime(text: number, gap: number, chance: number): number {
    const { weights, timeDecayMs } = this.config;
    const total = weights.text + weights.time;
    if (total <= 0) return 0;
    const time = Math.exp(-gap / timeDecayMs);
    return ((weights.text * text + weights.time * time) / total) * (1 - chance);
  }

  #open(at: number): Incident {
    const incident: Incident = {
      id: this.#nextIncident++,
      firstAt: at,
      lastAt: at,
      state: 'open',
      resolvesAt: null,
      resolvedAt: null,
      reopened: 0,
      manual: false,
      absorbed: [],
      alerts: [],
      cis: new Map(),
      templates: new Map(),
    };
    this.#incidents.set(incident.id, incident);
    return incident;
  }

  #join(incident: Incident, state: AlertState, at: number): void {
    state.incident = incident.id;
    // Most incidents keep one alert: a list of one, not one pushed to (room for 16 more).
    if (incident.alerts.length === 0) incident.alerts = [state];
    else incident.alerts.push(state);
    // Its first alert, which may have opened it, now has company.
    if (incident.alerts.length === 2) this.#background.regrew(incident.alerts[0]!, true);
    incident.firstAt = Math.min(incident.firstAt, at);
    incident.lastAt = Math.max(incident.lastAt, at);
    this.#dirtyIncidents.add(incident.id);
    this.#index(incident, state, at);
    this.#lifecycle(incident, at);
  }

  /**
   * Records an alert of an incident in the per-CI and per-template lookups. A full incident
   * (maxIncidentAlerts) takes no alert (see #live), so it has no lookups: in a storm, incidents
   * at the limit were four in five of the entries a new alert passed over.
   */
  #index(incident: Incident, state: AlertState, at: number): void {
    const ci = state.view.ci;
    if (ci !== null) incident.cis.set(ci, Math.min(incident.cis.get(ci) ?? Infinity, at));
    incident.templates.set(state.templateId, (incident.templates.get(state.templateId) ?? 0) + 1);
    if (incident.alerts.length >= this.config.maxIncidentAlerts) {
      this.#unindex(incident);
      return;
    }
    if (ci !== null) {
      const byIncident = this.#recentByCi.get(ci) ?? new Map<number, CiEntry>();
      this.#recentByCi.set(ci, byIncident);
      const entry = byIncident.get(incident.id);
      if (entry === undefined)
        byIncident.set(incident.id, {
          firstAt: at,
          lastAt: at,
          template: state.templateId,
          others: null,
        });
      else {
        entry.firstAt = Math.min(entry.firstAt, at);
        entry.lastAt = Math.max(entry.lastAt, at);
        addTemplate(entry, state.templateId);
      }
    }
    touch(this.#recentByTemplate, state.templateId, incident.id, at);
  }

  /** Drops an incident's entries from the per-CI and per-template lookups. */
  #unindex(incident: Incident): void {
    for (const ci of incident.cis.keys()) drop(this.#recentByCi, ci, incident.id);
    for (const t of incident.templates.keys()) drop(this.#recentByTemplate, t, incident.id);
  }

  /** Moves every alert of `from` into `into`; `from`'s id then resolves to `into`. */
  #merge(from: Incident, into: Incident): void {
    // A lone alert on either side now has company.
    for (const lone of [from, into])
      if (lone.alerts.length === 1) this.#background.regrew(lone.alerts[0]!, true);
    for (const state of from.alerts) {
      state.incident = into.id;
      into.alerts.push(state);
      this.#dirtyAlerts.add(state);
    }
    into.manual ||= from.manual;
    into.absorbed.push(from.id, ...from.absorbed);
    this.#resolving.delete(from);
    this.#dirtyIncidents.add(into.id);
    this.#mergedLog.push({ from: incidentName(from.id), into: incidentName(into.id) });
    into.firstAt = Math.min(into.firstAt, from.firstAt);
    into.lastAt = Math.max(into.lastAt, from.lastAt);
    for (const [ci, at] of from.cis) {
      into.cis.set(ci, Math.min(into.cis.get(ci) ?? Infinity, at));
      this.#foldCiEntry(ci, from.id, into.id);
    }
    for (const [t, n] of from.templates) {
      into.templates.set(t, (into.templates.get(t) ?? 0) + n);
      const byIncident = this.#recentByTemplate.get(t);
      const lastAt = byIncident?.get(from.id);
      if (byIncident === undefined || lastAt === undefined) continue;
      byIncident.delete(from.id);
      touch(this.#recentByTemplate, t, into.id, lastAt);
    }
    this.#incidents.delete(from.id);
    this.#mergedInto.set(from.id, into.id);
    if (into.alerts.length >= this.config.maxIncidentAlerts) this.#unindex(into);
    this.#lifecycle(into, into.lastAt);
  }

  /**
   * Moves an absorbed incident's lookup entry on a CI into its target's: one entry per live
   * incident and CI, spanning all its alerts there, as a restore (which knows only the incident
   * its alerts ended up in) rebuilds it. Two entries would score the incident by the better of
   * two partial spans and template sets, which a restored engine cannot reproduce.
   */
  #foldCiEntry(ci: string, from: number, into: number): void {
    const byIncident = this.#recentByCi.get(ci);
    const moved = byIncident?.get(from);
    if (byIncident === undefined || moved === undefined) return;
    byIncident.delete(from);
    const entry = byIncident.get(into);
    if (entry === undefined) {
      byIncident.set(into, moved);
      return;
    }
    entry.firstAt = Math.min(entry.firstAt, moved.firstAt);
    entry.lastAt = Math.max(entry.lastAt, moved.lastAt);
    addTemplate(entry, moved.template);
    for (const t of moved.others ?? []) addTemplate(entry, t);
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
   * Re-derives an incident's lifecycle after one of its alerts changed at event time `at`: with
   * nothing firing (a flapping alert counts as firing) it resolves a grace period after; an alert
   * firing again while it resolves keeps it open, and after it resolved reopens it.
   */
  #lifecycle(incident: Incident, at: number): void {
    if (incident.state === 'closed') return;
    const firing = incident.alerts.some((a) => a.view.firing || a.view.flapping);
    const before = incident.state;
    if (!firing && before === 'open') {
      const lastResolved = Math.max(at, ...incident.alerts.map((a) => a.resolvedAt ?? -Infinity));
      incident.state = 'resolving';
      incident.resolvesAt = lastResolved + this.config.resolveGraceMs;
      this.#resolving.add(incident);
      this.#resolveDue = Math.min(this.#resolveDue, incident.resolvesAt);
    } else if (firing && before !== 'open') {
      if (before === 'resolved') incident.reopened++;
      incident.state = 'open';
      incident.resolvesAt = null;
      incident.resolvedAt = null;
      this.#resolving.delete(incident);
    }
    if (incident.state !== before) this.#dirtyIncidents.add(incident.id);
  }

  /**
   * Runs the timers up to the watermark — incidents whose grace has passed resolve; firing alerts
   * past their time to live expire; flapping alerts quiet for a flap window stop flapping — and,
   * in the live mode, forgets what the watermark has left behind. Incidents resolve as soon as the
   * watermark passes their time; the full scans run once per event-time minute, at the minute
   * (see scanTick), so that a restored engine scans when and as one that never stopped does.
   */
  #sweep(watermark: number): void {
    if (watermark >= this.#resolveDue) {
      let due = Infinity;
      for (const incident of this.#resolving)
        if (incident.resolvesAt !== null && incident.resolvesAt <= watermark) {
          incident.state = 'resolved';
          incident.resolvedAt = incident.resolvesAt;
          incident.resolvesAt = null;
          this.#resolving.delete(incident);
          this.#dirtyIncidents.add(incident.id);
        } else if (incident.resolvesAt !== null) due = Math.min(due, incident.resolvesAt);
      this.#resolveDue = due;
    }
    const tick = scanTick(watermark);
    if (!(tick > this.#sweptAt)) return;
    this.#sweptAt = tick;
    this.#scan(tick);
  }

  /** The once-a-minute scans, at the minute's event time: expiry, flapping cool-down, eviction. */
  #scan(watermark: number): void {
    for (const state of this.#firing) {
      const ttl = this.config.alertTtlBySourceMs[state.view.source] ?? this.config.alertTtlMs;
      if (state.lastSeenAt + ttl > watermark) continue;
      state.view.firing = false;
      state.view.expired = true;
      state.view.flapping = false;
      state.resolvedAt = state.lastSeenAt + ttl;
      this.#firing.delete(state);
      this.#flapping.delete(state);
      this.#dirtyAlerts.add(state);
      const incident = this.#incidents.get(this.#find(state.incident));
      if (incident !== undefined) this.#lifecycle(incident, state.resolvedAt);
    }
    for (const state of this.#flapping) {
      if (state.view.firing) {
        this.#flapping.delete(state);
        continue;
      }
      if ((state.resolvedAt ?? watermark) + this.config.flapWindowMs > watermark) continue;
      state.view.flapping = false;
      this.#flapping.delete(state);
      this.#dirtyAlerts.add(state);
      const incident = this.#incidents.get(this.#find(state.incident));
      if (incident !== undefined) this.#lifecycle(incident, watermark);
    }
    if (this.#mode.evict) this.#evict(watermark);
    this.#pruneLookups(watermark);
  }

  /**
   * Forgets incidents that can take no alert any more (resolved or closed, or older than the
   * window and the maximum age allow) with their alerts once those cannot fire again as the
   * same episode.
   */
  #evict(watermark: number): void {
    const { windowMs, refireGraceMs, maxIncidentAgeMs } = this.config;
    for (const incident of [...this.#incidents.values()]) {
      if (incident.alerts.some((a) => a.view.firing || a.view.flapping)) continue;
      const idle = watermark - incident.lastAt > windowMs + refireGraceMs;
      const old = watermark - incident.firstAt > maxIncidentAgeMs + refireGraceMs;
      const done = incident.state === 'resolved' || incident.state === 'closed';
      if (!(done && idle) && !old) continue;
      // Its last changes not yet taken are still reported by takeChanges(): when the engine
      // forgets depends on event time alone, never on how often changes are taken.
      if (this.#dirtyIncidents.has(incident.id)) this.#forgottenDirty.set(incident.id, incident);
      this.#incidents.delete(incident.id);
      this.#resolving.delete(incident);
      for (const id of incident.absorbed) this.#mergedInto.delete(id);
      for (const state of incident.alerts) {
        // An opener still in the background window no longer has an incident, nor company.
        this.#background.regrew(state, false);
        this.#forget(state);
      }
    }
  }

  /**
   * Drops the lookups' entries older than the window (with the allowed lateness): no alert can be
   * scored against them any more. In every mode, eviction or not: an entry left behind would be
   * walked past by every later alert near its CI or with its template (in a week's storm, 99.6%
   * of the entries walked were such).
   */
  #pruneLookups(watermark: number): void {
    const horizon = watermark - this.config.windowMs - this.config.allowedLatenessMs;
    for (const [ci, byIncident] of this.#recentByCi) {
      for (const [id, entry] of byIncident) if (entry.lastAt < horizon) byIncident.delete(id);
      if (byIncident.size === 0) this.#recentByCi.delete(ci);
    }
    for (const [templateId, byIncident] of this.#recentByTemplate) {
      for (const [id, lastAt] of byIncident) if (lastAt < horizon) byIncident.delete(id);
      if (byIncident.size === 0) this.#recentByTemplate.delete(templateId);
    }
  }

  /** Drops an alert's lookups: its incident is forgotten. */
  #forget(state: AlertState): void {
    this.#byId.delete(state.view.id);
    this.#firing.delete(state);
    this.#flapping.delete(state);
    if (this.#byFingerprint.get(state.view.fingerprint) === state)
      this.#byFingerprint.delete(state.view.fingerprint);
  }

  #describe(incident: Incident): EngineIncidentChange {
    const rootCause = this.#rankRootCauses(incident);
    const firing = incident.alerts.filter((a) => a.view.firing || a.view.flapping);
    const severity = (firing.length > 0 ? firing : incident.alerts).reduce<Severity>(
      (worst, a) => worstSeverity(worst, a.view.severity),
      'info',
    );
    const root = rootCause[0]?.ci;
    const template =
      incident.alerts.length === 0
        ? null
        : (this.#texts.template(this.#dominantTemplate(incident, root ?? '')) ?? null);
    return {
      id: incidentName(incident.id),
      firstAt: incident.firstAt,
      lastAt: incident.lastAt,
      state: incident.state,
      resolvesAt: incident.resolvesAt,
      resolvedAt: incident.resolvedAt,
      reopened: incident.reopened,
      alerts: incident.alerts.map((a) => a.view),
      firing: firing.length,
      severity,
      cis: [...incident.cis.keys()],
      rootCause,
      template,
    };
  }

  /**
   * The earliest last-alert time of an incident that an engine restored at this latest event time
   * may still hold: an incident with nothing firing is forgotten once resolved (or closed) and idle
   * for windowMs + refireGraceMs at a scan (see #evict). Incidents still open, or with an alert
   * firing or flapping, it holds whatever their age; restore() forgets again what it need not hold.
   */
  restoreHorizon(latest: number): number {
    const { reorderMs, allowedLatenessMs, windowMs, refireGraceMs } = this.config;
    return scanTick(latest - reorderMs - allowedLatenessMs) - windowMs - refireGraceMs;
  }

  /**
   * Restores incidents and their alerts from storage (the live pipeline after a restart or a
   * change of leader), at the latest event time the engine had seen, with the text statistics
   * rebuilt from the templates' history. Returns each incident's engine id, in order (give them
   * in the order they were made: ties between equal scores go to the older incident). Restored
   * state is not reported by takeChanges(). An engine that forgets then forgets at once what one
   * that never stopped had forgotten at its last scan (a restore may offer more).
   */
  restore(incidents: readonly RestoredIncident[], context: RestoreContext): string[] {
    for (const template of context.templates) this.#texts.add(template);
    this.#maxAt = Math.max(this.#maxAt, context.latest);
    this.#clock = Math.max(this.#clock, context.latest - this.config.reorderMs);
    this.#sweptAt = Math.max(this.#sweptAt, scanTick(this.watermark));
    const names: string[] = [];
    for (const restored of incidents) {
      const incident = this.#open(restored.firstAt);
      Object.assign(incident, {
        lastAt: restored.lastAt,
        state: restored.state,
        resolvesAt: restored.resolvesAt,
        resolvedAt: restored.resolvedAt,
        reopened: restored.reopened,
        manual: restored.manual,
      });
      if (restored.state === 'resolving') {
        this.#resolving.add(incident);
        this.#resolveDue = Math.min(this.#resolveDue, incident.resolvesAt ?? -Infinity);
      }
      for (const a of restored.alerts) {
        const ci = this.#topology.resolve(a.ci) ?? this.#topology.resolve(a.service) ?? a.ci;
        const text = a.description ? `${a.title}\n${a.description}` : a.title;
        // The stored template is the text as first seen, masked; toTemplate leaves it as it is.
        const templateId =
          a.template !== null ? this.#texts.add(a.template) : this.#texts.add(text, a.ci ?? ci);
        const state: AlertState = {
          view: {
            id: a.id,
            fingerprint: a.fingerprint,
            source: a.source,
            service: a.service,
            ci,
            title: a.title,
            severity: a.severity,
            template: this.#texts.template(templateId) ?? '',
            startsAt: a.startsAt,
            firing: a.firing,
            flapping: a.flapping,
            changes: a.changes,
            expired: a.expired,
            pinned: a.pinned,
            deliveries: a.deliveries,
            explanation: a.explanation ?? emptyExplanation(false),
          },
          incident: incident.id,
          resolvedAt: a.resolvedAt,
          lastSeenAt: a.lastSeenAt,
          templateId,
          changes: [...a.recentChanges],
        };
        const known = this.#byFingerprint.get(a.fingerprint);
        if (known === undefined || known.view.startsAt <= a.startsAt)
          this.#byFingerprint.set(a.fingerprint, state);
        this.#byId.set(a.id, state);
        if (a.firing) this.#firing.add(state);
        if (a.flapping && !a.firing) this.#flapping.add(state);
        incident.alerts.push(state);
        this.#index(incident, state, a.startsAt);
        // The openers it counted, as it counted them: by the explanation it gave them.
        if (a.explanation?.decision === 'new')
          this.#background.record(a.startsAt, this.#clock, state);
        else if (a.explanation != null) {
          const e = a.explanation;
          // The attaches it counted, as it counted them: by the hops the explanation states.
          if (e.basis === 'topology' && e.hops !== null)
            this.#landing.record(a.startsAt, this.#clock, e.hops);
          // And the lone alerts' company, by when the explanation says it came.
          const company = loneCompanyGap(e);
          if (company !== null) this.#company.record(a.startsAt, this.#clock, company);
        }
      }
      names.push(incidentName(incident.id));
    }
    // The openers were counted before their incidents had all their alerts.
    this.#background.invalidate();
    if (Number.isFinite(this.#sweptAt)) {
      if (this.#mode.evict) this.#evict(this.#sweptAt);
      this.#pruneLookups(this.#sweptAt);
    }
    this.#dirtyAlerts.clear();
    this.#dirtyIncidents.clear();
    this.#forgottenDirty.clear();
    return names;
  }

  /**
   * A person moved alerts (by engine alert id) to an incident: they stay there whatever comes.
   * Unknown alerts (forgotten, or never seen) are skipped.
   */
  moveAlerts(alertIds: readonly string[], to: string): void {
    const target = this.#incidents.get(this.#find(incidentNumber(to)));
    if (target === undefined) return;
    target.manual = true;
    const sources = new Set<Incident>();
    for (const id of alertIds) {
      const state = this.#byId.get(id);
      if (state === undefined) continue;
      state.view.pinned = true;
      const from = this.#incidents.get(this.#find(state.incident));
      if (from === target) continue;
      if (from !== undefined) {
        from.alerts = from.alerts.filter((a) => a !== state);
        from.manual = true;
        sources.add(from);
      }
      state.incident = target.id;
      target.alerts.push(state);
      target.firstAt = Math.min(target.firstAt, state.view.startsAt);
      target.lastAt = Math.max(target.lastAt, state.view.startsAt);
    }
    for (const incident of [...sources, target]) this.#reindex(incident);
  }

  /** A person merged incidents into one; it is never split or re-merged by the engine. */
  mergeIncidents(from: readonly string[], into: string): void {
    const target = this.#incidents.get(this.#find(incidentNumber(into)));
    if (target === undefined) return;
    target.manual = true;
    for (const name of from) {
      const other = this.#incidents.get(this.#find(incidentNumber(name)));
      if (other === undefined || other === target) continue;
      this.#merge(other, target);
    }
    this.#reindex(target);
    this.#mergedLog = this.#mergedLog.filter((m) => !from.includes(m.from));
  }

  /** A person split alerts off into a new incident; returns its engine id. */
  splitAlerts(alertIds: readonly string[]): string {
    const states = alertIds
      .map((id) => this.#byId.get(id))
      .filter((s): s is AlertState => s !== undefined);
    const incident = this.#open(Math.min(...states.map((s) => s.view.startsAt), this.#clock));
    incident.manual = true;
    this.moveAlerts(alertIds, incidentName(incident.id));
    return incidentName(incident.id);
  }

  /** A person closed or canceled an incident: it takes no new alert. */
  retire(name: string): void {
    const incident = this.#incidents.get(this.#find(incidentNumber(name)));
    if (incident === undefined) return;
    incident.state = 'closed';
    this.#resolving.delete(incident);
  }

  /** Rebuilds an incident's lookups and lifecycle after a person changed its alerts. */
  #reindex(incident: Incident): void {
    // A person moved alerts between incidents: which openers have company is counted afresh.
    this.#background.invalidate();
    this.#unindex(incident);
    incident.cis.clear();
    incident.templates.clear();
    for (const state of incident.alerts) {
      this.#index(incident, state, state.view.startsAt);
      this.#dirtyAlerts.add(state);
    }
    this.#dirtyIncidents.add(incident.id);
    if (incident.alerts.length === 0) this.retire(incidentName(incident.id));
    else this.#lifecycle(incident, incident.lastAt);
  }

  /**
   * Ranks the incident's CIs and their shared dependencies (within dependencyDepth, depended on by
   * at least two alerting CIs): score = how well the candidate's impact set (itself, what depends
   * on it and, with rootCauseContainment, the CIs it contains) explains which CIs alert
   * (rootCauseSpecificity; otherwise the share of the alerting CIs in that set), plus a bonus for
   * alerting, plus one for alerting first. Ties: earlier alert, name.
   */
  #rankRootCauses(incident: Incident): RootCauseCandidate[] {
    const alerting = [...incident.cis.entries()].sort((a, b) => a[1] - b[1] || byName(a[0], b[0]));
    if (alerting.length === 0) return [];
    const first = alerting[0]![0];
    const dependents = new Map<string, string[]>();
    const cover = (ci: string, by: string) => {
      const covered = dependents.get(ci);
      if (covered === undefined) dependents.set(ci, [by]);
      else covered.push(by);
    };
    const containment = this.config.rootCauseContainment;
    for (const [ci] of alerting) {
      cover(ci, ci);
      const dependencies = this.#topology.dependencies(ci);
      for (const dependency of dependencies.keys()) cover(dependency, ci);
      // A whole it depends on already covers it as a dependency: counted once.
      if (containment)
        for (const whole of this.#topology.wholes(ci))
          if (!dependencies.has(whole)) cover(whole, ci);
    }
    // The CIs an alert could be on: the CMDB's, and any alerting CI under a name it lacks.
    const universe = Math.max(this.#topology.size, alerting.length);
    const ranked: {
      ci: string;
      score: number;
      at: number;
      covered: string[];
      impact: number;
    }[] = [];
    for (const [ci, covered] of dependents) {
      const at = incident.cis.get(ci);
      if (at === undefined && covered.length < 2) continue;
      // Every CI that covers it depends on it or is its part, so its impact set holds them all.
      const impact = Math.min(
        Math.max(
          containment ? this.#topology.impactSize(ci) : 1 + this.#topology.dependentCount(ci),
          covered.length,
        ),
        universe,
      );
      const fit = this.config.rootCauseSpecificity
        ? explainedShare(covered.length, impact, alerting.length, universe)
        : covered.length / alerting.length;
      const score =
        fit +
        (at === undefined ? 0 : this.config.alertingBonus) +
        (ci === first ? this.config.firstAlertBonus : 0);
      ranked.push({ ci, score: round(score), at: at ?? Infinity, covered, impact });
    }
    ranked.sort((a, b) => b.score - a.score || a.at - b.at || byName(a.ci, b.ci));
    // The reasons of the candidates kept only: an incident's CIs may have thousands.
    return ranked
      .slice(0, this.config.rootCauseCandidates)
      .map(({ ci, score, at, covered, impact }) => {
        const others = covered.filter((c) => c !== ci);
        const parts = containment ? this.#topology.parts(ci) : [];
        const relation = others.some((c) => parts.includes(c))
          ? 'are its parts or depend on it'
          : 'depend on it';
        const set = parts.length > 0 ? 'parts and dependents' : 'dependents';
        const reason =
          `${others.length} of ${alerting.length} alerting CIs ${relation}` +
          (others.length > 0
            ? ` (${others.slice(0, 5).join(', ')}${others.length > 5 ? ', …' : ''})`
            : '') +
          (impact > 1
            ? `; ${others.length} of its ${impact - 1} ${set} alert`
            : '; nothing depends on it') +
          (at === Infinity
            ? '; not alerting itself'
            : ci === first
              ? '; alerted first'
              : '; alerting');
        return { ci, score, reason };
      });
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
  mode?: EngineMode,
): Promise<CorrelationEngine> {
  return new CorrelationEngine(
    cmdb,
    await createTemplateIndex(),
    resolveEngineConfig(config),
    mode,
  );
}

function topologyOf(cmdb: EngineCmdb, config: Readonly<EngineConfig>): Topology {
  return new Topology(cmdb.cis, cmdb.relationships, {
    maxHops: config.maxHops,
    hubDegree: config.hubDegree,
    dependencyDepth: config.dependencyDepth,
  });
}

function eventTime(delivery: EngineDelivery): number {
  const { alert } = delivery;
  const when =
    (alert.status === 'resolved' && alert.endsAt) || alert.startsAt || delivery.deliveredAt;
  const at = Date.parse(when);
  return Number.isNaN(at) ? Date.parse(delivery.deliveredAt) : at;
}

/**
 * Whether a resolve belongs to an earlier firing of a firing alert: it provably ended before the
 * current firing began (it started strictly before it, and ended at or before its start). The
 * current firing began at the alert's latest change (to firing) or, with none, at its start; a
 * restored alert has both (its stored change times). A resolve without startsAt proves nothing
 * and resolves the alert, as does one of a firing that overlaps the current one.
 */
function resolvesEarlierFiring(
  state: AlertState,
  alert: AlertInput,
  startsAt: number,
  endsAt: number,
): boolean {
  if (!alert.startsAt) return false;
  const since = state.view.changes > 0 ? state.changes.at(-1) : undefined;
  const current = since ?? state.view.startsAt;
  return startsAt < current && endsAt <= current;
}

/** Records a late delivery that changed nothing: counted, and said once in the message. */
function noteIgnored(
  state: AlertState,
  field: 'ignoredLateResends' | 'ignoredLateResolves',
  said: string,
): void {
  const explanation = state.view.explanation;
  const ignored = explanation[field] ?? 0;
  state.view.explanation = {
    ...explanation,
    [field]: ignored + 1,
    message: ignored === 0 ? [explanation.message, said].join('; ') : explanation.message,
  };
}

/**
 * Whether a firing delivery re-sends a firing of a resolved alert that has ended: it started
 * strictly before the alert's resolve (a real refire starts after it). The resolve time is its
 * latest change, stored, so a restored engine decides the same. A firing without startsAt proves
 * nothing (the delivery time stands for it) and fires the alert again; an expired alert's resolve
 * time is a guess, so anything fires it again.
 */
function resendsEndedFiring(state: AlertState, alert: AlertInput, startsAt: number): boolean {
  if (!alert.startsAt || state.resolvedAt === null || state.view.expired) return false;
  return startsAt < state.resolvedAt;
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

/**
 * Drops an incident's entry under `key`, and the key once it has none: a lookup holding an empty
 * map would cost every alert near it a look-up and an empty walk.
 */
function drop<K>(map: Map<K, Map<number, unknown>>, key: K, incident: number): void {
  const byIncident = map.get(key);
  if (byIncident === undefined || !byIncident.delete(incident) || byIncident.size > 0) return;
  map.delete(key);
}

/**
 * How long after a lone alert the alert an explanation explains came as its company (see
 * CompanyTimes), or null when it was not: an attach (not a merge, whose incident's first alert
 * may be another's) to an incident of one alert (it states a `lone` chance), not a late one
 * (whose incident's first alert is then itself). One rule for the engine and its restore.
 */
function loneCompanyGap(e: Explanation): number | null {
  return e.lone !== undefined && !e.late && e.decision === 'attach'
    ? e.secondsSinceFirst * SECOND
    : null;
}

/** How far an event time is from a span of event times (0 inside it). */
function gapTo(at: number, firstAt: number, lastAt: number): number {
  return at > lastAt ? at - lastAt : at < firstAt ? firstAt - at : 0;
}

/** One empty list for every explanation's path or merges that has none (there is one per alert). */
const none: readonly string[] = Object.freeze([]);
/** One empty list of changes for every alert that has had none. */
const noChanges: readonly number[] = Object.freeze([]);

function emptyExplanation(late: boolean): Explanation {
  return {
    decision: 'new',
    score: 0,
    hops: null,
    path: none,
    text: 0,
    chance: 0,
    secondsSinceFirst: 0,
    merged: none,
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

/**
 * How much of which CIs alert a candidate's impact set explains: the mutual information between
 * "in the impact set" and "alerting" over `universe` CIs, over the entropy of "alerting" (Theil's
 * uncertainty coefficient, 0..1). `covered` of the `alerting` CIs are among the `impact` CIs of
 * the set. 0 when the overlap is no more than a random set of that size would get (information
 * counts either way, but a cause that makes its dependents alert less than chance is none); 1
 * when the set is exactly the alerting CIs. Both halves count: an alerting CI outside the set and
 * a silent CI inside it each cost, against chance, so neither coverage nor a small set wins
 * alone.
 */
function explainedShare(covered: number, impact: number, alerting: number, universe: number) {
  const entropy = -plogp(alerting, universe) - plogp(universe - alerting, universe);
  if (entropy <= 0) return covered / alerting;
  // No better than chance (which also covers a set as large as the universe: it tells nothing).
  if (covered * universe <= impact * alerting) return 0;
  const cells = [
    [covered, impact, alerting],
    [impact - covered, impact, universe - alerting],
    [alerting - covered, universe - impact, alerting],
    [universe - impact - alerting + covered, universe - impact, universe - alerting],
  ] as const;
  let information = 0;
  for (const [observed, row, column] of cells)
    if (observed > 0) information += observed * Math.log((observed * universe) / (row * column));
  return Math.min(1, information / entropy);
}

/** n·ln(n/total), 0 for n = 0. */
function plogp(n: number, total: number): number {
  return n > 0 ? n * Math.log(n / total) : 0;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
