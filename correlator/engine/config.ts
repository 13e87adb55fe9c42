/**
 * The settings of the correlation engine, with defaults chosen on principle rather than fitted to
 * a benchmark: each says what it stands for.
 */

/** Weights of the attach score; they sum to 1 so that the score and threshold read as 0..1. */
export type ScoreWeights = { topology: number; text: number; time: number };

/** When text and time may place an alert that topology does not (see EngineConfig). */
export type TextTimeAttaches = 'never' | 'unplaced' | 'unmatched';

const textTimeModes: readonly TextTimeAttaches[] = ['never', 'unplaced', 'unmatched'];

/** Every setting of the engine; see `defaultEngineConfig` for what each default means. */
export type EngineConfig = {
  /**
   * How long a delivery is held to be put in event-time order before it is processed. 0 (the
   * default) processes each on arrival, as the live pipeline must; a replay uses the same value.
   */
  reorderMs: number;
  /**
   * How far behind the latest event time a delivery may arrive and still count as on time. The
   * watermark (latest event time minus this) drives the timers: auto-resolve, expiry, eviction.
   */
  allowedLatenessMs: number;
  /** An incident whose alerts have all resolved resolves by itself this long after the last. */
  resolveGraceMs: number;
  /** A firing alert with no delivery for this long expires (resolved by expiry), by source. */
  alertTtlMs: number;
  alertTtlBySourceMs: Readonly<Record<string, number>>;
  /** Hops at most between an alert's CI and an incident's CIs for topology to count. */
  maxHops: number;
  /** CIs with more neighbours than this are hubs: reached, never traversed through. */
  hubDegree: number;
  /** Hops at most along the impact direction when ranking root causes. */
  dependencyDepth: number;
  /** An incident takes new alerts up to this long after (or before) its latest alert. */
  windowMs: number;
  /** An incident takes no new alert this long after its first alert. */
  maxIncidentAgeMs: number;
  /** An incident takes no new alert once it holds this many. */
  maxIncidentAlerts: number;
  /**
   * Two incidents one alert bridges are merged only if they started this close together: fragments
   * of one cascade start together; a fault that touches an older storm is a new fault.
   */
  mergeStartGapMs: number;
  /**
   * Whether an alert also merges the fragments of its cascade that would not take it. A cascade
   * splits when one of its alerts lands too far or too late for the incident's score and opens
   * its own incident; its later alerts then join one fragment or the other, and none takes both.
   * On (with chanceCorrection and coincidenceLevel): when an alert is placed by topology, another
   * live incident near it in the CMDB that started within mergeStartGapMs is merged into its
   * incident if the alert is likelier than not the company of both: (1 − the chance of a
   * coincidence for its incident) × (1 − the chance of a coincidence exactly that many hops from
   * the other's CI, as coincidenceLevel weighs it) above ½, the bar a lone alert's company is held
   * to. A lone alert's incident only if its CI is also within maxHops of the alert's incident: the
   * chance the engine states for one alert is the one it under-states most, so the CMDB must close
   * the triangle. Off: only incidents that would both take the alert are merged.
   */
  fragmentMerges: boolean;
  /**
   * Whether an alert placed by topology also merges the fragments of its cascade the CMDB cannot
   * join (edges missing): the other live incidents of more than one alert holding the alert's own
   * template, started within mergeStartGapMs, for which the alert is likelier than not the company
   * of both (½, as for fragmentMerges), the other's chance of a coincidence being the one text and
   * time are weighed by (an unrelated alert anywhere in the estate this soon, see
   * textTimeAttaches). An incident of one alert never: no CMDB closes the triangle. Needs
   * chanceCorrection.
   */
  textFragmentMerges: boolean;
  /** Time proximity is exp(-gap / timeDecayMs). */
  timeDecayMs: number;
  weights: ScoreWeights;
  /** Attach to the best incident scoring at least this; otherwise open a new one. */
  attachThreshold: number;
  /**
   * Whether closeness in the CMDB counts only insofar as it beats chance: in a busy estate an
   * unrelated alert often lands a few hops from a live incident within its window. Each
   * candidate's topology closeness is scaled by 1 − its chance of a coincidence: the rate at which
   * unrelated alerts land within its hops of the incident's CI (the background rate per CI times
   * the CIs that close), against the rate at which the incident itself raises alerts, faded by the
   * gap since that CI last alerted. Text and time proximity are not scaled (the chance already
   * weighs the gap).
   */
  chanceCorrection: boolean;
  /**
   * The background rate is the alerts that opened their own incident over this much event time,
   * spread over the CMDB's CIs. At most windowMs + refireGraceMs: a restored engine is given the
   * alerts of that span, and must count what one that never stopped counts.
   */
  backgroundWindowMs: number;
  /**
   * Whether an incident of one alert takes another only when that is likelier its company than a
   * coincidence. In a busy estate most lone alerts are background alerts that never have company;
   * taking each for the first alert of a cascade (one more alert per decay time) under-states the
   * chance that an alert landing near it is a coincidence. On: that incident's rate is weighted
   * by how often a lone alert turns out to be the first of an incident (of the background
   * window's openers at least windowMs old, the share whose incident took another alert, by
   * Laplace's rule: (grown + 1) / (openers + 2)) and paced as lone alerts' company has come (of
   * the alerts that joined an incident of one alert over the background window, the mean time
   * after it, with one prior observation at timeDecayMs), and an alert for which that chance is
   * above ½ opens its own incident, unless two or more lone alerts near it would take it (each
   * other's company: they are merged). Only with chanceCorrection.
   */
  loneIncidentChance: boolean;
  /**
   * A candidate near the alert in the CMDB may take the alert whatever its score when a
   * coincidence exactly that many hops away is less likely than this (with chanceCorrection; the
   * score still ranks the candidates that may). The score adds evidence of different kinds on a
   * fixed scale, so a candidate two hops away without similar text, or one hop away a few minutes
   * on, never reaches attachThreshold however unlikely a coincidence is. That chance is the
   * correction's with the room and the rate taken per hop count, a likelihood ratio per ring:
   * unrelated alerts land in the CIs exactly that far from the incident's CI (not within that
   * far), against the share of the incident's rate that lands that far, learnt from the engine's
   * own topology attaches over the background window (HopShares), and spread over the incident's
   * alerting CIs (its alerts land near any one of them at that share of its rate); a lone alert's
   * incident weighed by how often lone alerts have had company (loneIncidentChance). Crediting the
   * incident's whole rate at every distance and near every one of its CIs (as the score's
   * correction does) under-states the chance two or three hops away, where the rings are large
   * and cascades rarely land, and near a storm on many CIs. 0: off, the score decides.
   */
  coincidenceLevel: number;
  /** Templates at least this similar make an incident a candidate by text alone. */
  textCandidateThreshold: number;
  /**
   * Whether an incident with no CI within maxHops may take an alert on text and time alone. Off:
   * in a busy estate lookalike symptoms coincide by chance, and each such attach widens the
   * incident's reach, so storms chain through noise; text only corroborates topology.
   */
  textAloneAttaches: boolean;
  /**
   * When the CMDB has nothing to say about an alert, text and time may place it instead, counted
   * only insofar as they beat chance. `unplaced`: for an alert whose CI the CMDB cannot place (no
   * CI, a CI it does not know, or one it knows with no relationship: its edges are missing);
   * `unmatched` (the default): also for an alert no incident near it in the CMDB would take, for
   * a CMDB is never complete (edges missing, a cascade longer than maxHops or through a hub) and
   * a CI's distance then says little either way; `never`: off. Candidates are the live incidents
   * holding the alert's template; the score is text similarity and time proximity, weighted as
   * in the attach score without topology, times 1 − the chance that an unrelated alert anywhere
   * in the estate came this soon (the chance correction's rate with the whole estate as the
   * room); a lone alert's incident is weighed as on topology (loneIncidentChance). Such an
   * attach never merges.
   */
  textTimeAttaches: TextTimeAttaches;
  /** A fingerprint firing again this soon after it resolved is the same alert (a flap). */
  refireGraceMs: number;
  /** This many firing/resolved changes within flapWindowMs mark an alert as flapping. */
  flapChanges: number;
  flapWindowMs: number;
  /**
   * How a root-cause candidate's dependents weigh. Off: by coverage alone, the share of the
   * incident's alerting CIs that are or depend on it, so a hub everything depends on covers every
   * incident. On: by how much of which CIs alert its impact set (itself and its dependents within
   * dependencyDepth) explains, beyond chance: the mutual information between "in its impact set"
   * and "alerting" over the CMDB's CIs, as a share of the uncertainty of which CIs alert (0: no
   * better than a random set of its size; 1: its impact set is exactly the alerting CIs). It
   * rewards covering the alerting CIs and a share of the impact set alerting, both against what
   * a random set of that size would do, so a hub is not blamed for alerts a narrower failure
   * explains, and is still blamed when only it explains them.
   */
  rootCauseSpecificity: boolean;
  /**
   * Whether a whole explains its parts' alerts: on, a CI that `contains` others (an application
   * and its instances, a cluster and its brokers) has them in its impact set beside what depends
   * on it, so a failure of the whole itself (a bad release, a bad configuration), which every
   * part shows, is ranked as one cause rather than as one of its parts impacting the whole. One
   * level only: the parts of a whole's parts, or of a whole a failure reached through its own
   * dependencies, are not. Off: only the impact direction counts (a part's failure reaches the
   * whole, never the other way).
   */
  rootCauseContainment: boolean;
  /** Root-cause bonus for a candidate CI that is itself alerting. */
  alertingBonus: number;
  /** Root-cause bonus for the CI that alerted first in the incident. */
  firstAlertBonus: number;
  /** Root-cause candidates kept per incident. */
  rootCauseCandidates: number;
};

const MINUTE = 60_000;

/**
 * Defaults. Reorder 0: live, an alert waits for nothing. Lateness 5 min: about a monitoring
 * tool's retry backoff; timers lag the newest event by it, so a late resolution still counts.
 * Resolve grace 5 min: one Alertmanager group_interval, so an alert that resolves and fires
 * again at the next evaluation does not resolve and reopen its incident. Time to live 24 h for
 * tools that send once per state change; 12 h (three repeat_intervals) for Alertmanager, which
 * re-sends a firing alert every 4 h. 4 hops: app → instance → host → switch, the depth at which a failure is
 * still plausibly shared, and one more for the edge a CMDB misses on such a path (a real CMDB
 * lacks edges, and each one missing makes a cascade's path there longer; the chance correction
 * already weighs the larger room farther out, and closeness four hops away counts little
 * unless text and time agree). Hub cap 50: a CI serving more than that is shared infrastructure whose
 * neighbours are unrelated to each other. Window 15 min: about three re-send/evaluation cycles of
 * the common tools (Alertmanager's group_interval is 5 min), the time a cascade takes to show.
 * Age 6 h / 1,000 alerts: beyond them a "storm" is a standing condition, better split. Weights:
 * topology is the strongest, independent evidence (0.6); text corroborates (0.25); time only
 * decays it (0.15). Threshold 0.4: one hop needs recency (0.3 + 0.15·time) or some text; two
 * hops need text; text and time alone (at most 0.4, identical text at the same instant) barely
 * pass, so coincident lookalike noise elsewhere stays alone. Chance correction on, over 30 min
 * (window + refire grace, the most a restore can count): a quiet estate keeps its scores, a busy
 * one discounts the closeness that coincidence explains as well as the incident does. A lone
 * alert's incident takes an alert only when its company is likelier than a coincidence (½: no
 * cost is set against either mistake). An attach the score refuses is made when a coincidence at
 * that distance is less likely than 5% (coincidenceLevel: the usual significance level, one wrong
 * attach in twenty at most were the chance exact). Text and time place an alert no incident near it in the
 * CMDB takes (unmatched), beyond the chance of an unrelated alert anywhere that soon. Merges:
 * only incidents that started within one window of each other; a fragment that would not take the
 * alert, when the alert is likelier than not the company of both (½, as for a lone alert), and one
the CMDB does not join that holds the alert's template, on the same bar. Flapping: 4 changes in 30 min.
 */
export const defaultEngineConfig: Readonly<EngineConfig> = Object.freeze({
  reorderMs: 0,
  allowedLatenessMs: 5 * MINUTE,
  resolveGraceMs: 5 * MINUTE,
  alertTtlMs: 24 * 60 * MINUTE,
  alertTtlBySourceMs: Object.freeze({ alertmanager: 12 * 60 * MINUTE }),
  maxHops: 4,
  hubDegree: 50,
  dependencyDepth: 8,
  windowMs: 15 * MINUTE,
  maxIncidentAgeMs: 6 * 60 * MINUTE,
  maxIncidentAlerts: 1000,
  mergeStartGapMs: 15 * MINUTE,
  fragmentMerges: true,
  textFragmentMerges: true,
  timeDecayMs: 5 * MINUTE,
  weights: Object.freeze({ topology: 0.6, text: 0.25, time: 0.15 }),
  attachThreshold: 0.4,
  chanceCorrection: true,
  backgroundWindowMs: 30 * MINUTE,
  loneIncidentChance: true,
  coincidenceLevel: 0.05,
  textCandidateThreshold: 0.6,
  textAloneAttaches: false,
  textTimeAttaches: 'unmatched',
  refireGraceMs: 15 * MINUTE,
  flapChanges: 4,
  flapWindowMs: 30 * MINUTE,
  rootCauseSpecificity: true,
  rootCauseContainment: true,
  alertingBonus: 0.15,
  firstAlertBonus: 0.1,
  rootCauseCandidates: 3,
});

/** The defaults overridden by the given settings, checked and frozen. */
export function resolveEngineConfig(overrides: Partial<EngineConfig> = {}): Readonly<EngineConfig> {
  const config: EngineConfig = {
    ...defaultEngineConfig,
    ...overrides,
    weights: { ...defaultEngineConfig.weights, ...overrides.weights },
    alertTtlBySourceMs: {
      ...defaultEngineConfig.alertTtlBySourceMs,
      ...overrides.alertTtlBySourceMs,
    },
  };
  const problems: string[] = [];
  for (const [key, value] of Object.entries(config))
    if (typeof value === 'number' && !(value >= 0 && Number.isFinite(value)))
      problems.push(`${key} must be a finite number ≥ 0, got ${value}`);
  for (const [key, value] of Object.entries(defaultEngineConfig))
    if (typeof value === 'boolean' && typeof config[key as keyof EngineConfig] !== 'boolean')
      problems.push(`${key} must be true or false`);
  for (const [source, ttl] of Object.entries(config.alertTtlBySourceMs))
    if (!(ttl > 0 && Number.isFinite(ttl)))
      problems.push(`alertTtlBySourceMs.${source} must be a finite number > 0, got ${ttl}`);
  const restored = config.windowMs + config.refireGraceMs;
  if (config.backgroundWindowMs > restored)
    problems.push(
      `backgroundWindowMs must be at most windowMs + refireGraceMs (${restored}), the span a ` +
        `restored engine is given, got ${config.backgroundWindowMs}`,
    );
  if (!textTimeModes.includes(config.textTimeAttaches))
    problems.push(
      `textTimeAttaches must be one of ${textTimeModes.join(', ')}, got ${String(config.textTimeAttaches)}`,
    );
  // A bound far beyond any sound setting (a few hops reach most of an estate); the searches keep
  // hops in a byte.
  if (!(Number.isInteger(config.maxHops) && config.maxHops <= 16))
    problems.push(`maxHops must be a whole number of at most 16, got ${config.maxHops}`);
  if (!(config.coincidenceLevel <= 1))
    problems.push(`coincidenceLevel must be at most 1, got ${config.coincidenceLevel}`);
  if (config.chanceCorrection && !(config.backgroundWindowMs > 0))
    problems.push('backgroundWindowMs must be > 0 while chanceCorrection is on');
  const { topology, text, time } = config.weights;
  if (![topology, text, time].every((w) => w >= 0) || topology + text + time <= 0)
    problems.push('weights must be ≥ 0 and not all 0');
  if (problems.length > 0) throw new RangeError(`engine config: ${problems.join('; ')}`);
  return Object.freeze({
    ...config,
    weights: Object.freeze(config.weights),
    alertTtlBySourceMs: Object.freeze(config.alertTtlBySourceMs),
  });
}
