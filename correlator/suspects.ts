/**
 * An incident's suspects: the change that probably caused it, and the known error whose
 * workaround probably applies. Called after each batch for the incidents opened or whose CIs
 * changed; each look-up serves the whole batch with one query per kind of fact.
 *
 * Suspected change: a change implemented (state implement, review or closed; see
 * services/store/suspects.ts) on one of the incident's CIs, whose implementation started before
 * the incident opened and was under way within `changeLookbackMs` before it (started then, ended
 * then, or still in implement). A change on the root-cause CI beats one on an alerting CI, which
 * beats one on a CI the incident depends on; within a role the change that started nearest before
 * the opening wins.
 *
 * Known error: a published known error whose scope fits the incident (its CI class is the class,
 * or a parent class, of the root-cause CI or an alerting CI; its service, when it names one, is
 * the incident's service; an unset field does not restrict) and whose text is at least
 * `knownErrorMinScore` similar (TF-IDF cosine of templates, correlator/similarity.ts) to one of
 * the incident's templates. Scope alone never matches. Both sides are compared by their words
 * only (see matchWords): placeholders say where and how much, not what failed, and prose has
 * none, so an alert's `<ci>` would count against every known error. A known error is compared
 * passage by passage: its title, its whole symptom, and each sentence or clause of the symptom,
 * because cosine punishes length and a symptom is prose while an alert is one line. Against
 * "connection pool exhausted on <ci>", the symptom "Applications fail with connection pool
 * exhausted errors on the ledger database; new sessions are refused." scores ≈ 0.4 whole, ≈ 0.5
 * its first clause, and the title "Ledger DB connection pool exhausted" ≈ 0.6–0.7 (with the
 * placeholders: 0.25, 0.3 and 0.4). Known errors are cached and re-read every
 * `knownErrorRefreshMs` into a fresh template index; the index learns IDF from the known errors
 * and the incident templates asked about since, so a score near the threshold may move slightly
 * between refreshes.
 */
import type { Queryable } from '../services/store/db.ts';
import {
  ciClassPaths,
  implementedChanges,
  publishedKnownErrors,
  type ChangeProbe,
  type ImplementedChange,
  type PublishedKnownError,
} from '../services/store/suspects.ts';
import { createTemplateIndex, type TemplateIndex } from './similarity.ts';
import { toTemplate } from './templates.ts';

/** The settings of the suspect look-ups. */
export type SuspectSettings = {
  /** A change under way on an incident's CIs up to this long before it opened is a suspect. */
  changeLookbackMs: number;
  /** A known error's title or symptom passage must be this similar (0..1) to an incident template. */
  knownErrorMinScore: number;
  /** Published known errors are re-read at most this long after they were last read. */
  knownErrorRefreshMs: number;
};

const MINUTE = 60_000;

/**
 * Defaults. Look-back 2 h: a bad change usually shows within one deployment-and-warm-up cycle
 * (caches expire, pools fill, the next batch job runs), and a longer window names more
 * coincidental changes than causes. Minimum score 0.5: with equal weights, an alert whose words
 * all appear in a passage up to four times as long (3 words in 12: 3 / √(3 · 12) = 0.5), or most
 * of them in a shorter one; rare words weigh more. Lower than the engine's 0.6 for template
 * against template, because a known error is written by a person, with words no alert has.
 * Refresh 5 min: a newly published known error is used within minutes, at one small query per
 * 5 min.
 */
export const defaultSuspectSettings: Readonly<SuspectSettings> = Object.freeze({
  changeLookbackMs: 120 * MINUTE,
  knownErrorMinScore: 0.5,
  knownErrorRefreshMs: 5 * MINUTE,
});

/** The defaults overridden by the given settings, checked and frozen. */
export function resolveSuspectSettings(
  overrides: Partial<SuspectSettings> = {},
): Readonly<SuspectSettings> {
  const settings = { ...defaultSuspectSettings, ...overrides };
  const problems: string[] = [];
  for (const [key, value] of Object.entries(settings))
    if (!(value >= 0 && Number.isFinite(value)))
      problems.push(`${key} must be a finite number ≥ 0, got ${value}`);
  if (!(settings.knownErrorMinScore > 0 && settings.knownErrorMinScore <= 1))
    problems.push(`knownErrorMinScore must be in (0, 1], got ${settings.knownErrorMinScore}`);
  if (problems.length > 0) throw new RangeError(`suspect settings: ${problems.join('; ')}`);
  return Object.freeze(settings);
}

/** An incident asking for its suspected change. */
export type ChangeQuery = {
  /** The caller's key for the incident (its id, or the engine's key before it is stored). */
  key: string;
  /** When it opened (its first alert), ISO 8601. */
  openedAt: string;
  rootCauseCi: string | null;
  alertingCis: readonly string[];
  /** CIs the incident's CIs depend on (impact direction). */
  dependencyCis: readonly string[];
};

/** How a CI takes part in an incident, strongest first. */
export type CiRole = 'root-cause' | 'alerting' | 'dependency';

const roleRank: Record<CiRole, number> = { 'root-cause': 0, alerting: 1, dependency: 2 };
const roleLabel: Record<CiRole, string> = {
  'root-cause': 'the root-cause CI',
  alerting: 'an alerting CI',
  dependency: 'a CI the incident depends on',
};

/** The change an incident is linked to, and why. */
export type SuspectedChange = {
  changeId: string;
  number: string;
  /** The incident's CI the change was implemented on, and its role in the incident. */
  ci: string;
  role: CiRole;
  startedAt: string;
  /** One sentence: "CHG0001003 'Raise pool size' implemented on db-ledger, …, 14 min before …". */
  reason: string;
};

/** Each of an incident's CIs with its strongest role. */
function rolesOf(incident: ChangeQuery): Map<string, CiRole> {
  const roles = new Map<string, CiRole>();
  if (incident.rootCauseCi !== null) roles.set(incident.rootCauseCi, 'root-cause');
  for (const ci of incident.alertingCis) if (!roles.has(ci)) roles.set(ci, 'alerting');
  for (const ci of incident.dependencyCis) if (!roles.has(ci)) roles.set(ci, 'dependency');
  return roles;
}

/** One probe per incident and CI, for implementedChanges(). */
export function changeProbes(incidents: readonly ChangeQuery[]): ChangeProbe[] {
  return incidents.flatMap((incident) =>
    [...rolesOf(incident).keys()].map((ci) => ({
      key: incident.key,
      openedAt: incident.openedAt,
      ci,
    })),
  );
}

type ChangeCandidate = { change: ImplementedChange; role: CiRole; gap: number };

/** Stronger role first, then the nearer start before the opening, then the older change. */
const compareChanges = (a: ChangeCandidate, b: ChangeCandidate) =>
  roleRank[a.role] - roleRank[b.role] ||
  a.gap - b.gap ||
  Number(a.change.changeId) - Number(b.change.changeId);

/**
 * Picks each incident's suspected change among the changes implemented on its CIs in its window
 * (what implementedChanges() returns): the strongest role of the CI, then the latest start before
 * the opening, then the lowest id. Incidents without one are absent from the map.
 */
export function rankSuspectedChanges(
  incidents: readonly ChangeQuery[],
  changes: readonly ImplementedChange[],
  lookbackMs: number,
): Map<string, SuspectedChange> {
  const byKey = new Map(incidents.map((i) => [i.key, { incident: i, roles: rolesOf(i) }]));
  const best = new Map<string, ChangeCandidate>();
  for (const change of changes) {
    const found = byKey.get(change.key);
    const role = found?.roles.get(change.ci);
    if (!found || role === undefined) continue;
    const candidate = {
      change,
      role,
      gap: Date.parse(found.incident.openedAt) - Date.parse(change.startedAt),
    };
    const held = best.get(change.key);
    if (!held || compareChanges(candidate, held) < 0) best.set(change.key, candidate);
  }
  const suspects = new Map<string, SuspectedChange>();
  for (const [key, { change, role }] of best) {
    const openedAt = byKey.get(key)!.incident.openedAt;
    suspects.set(key, {
      changeId: change.changeId,
      number: change.number,
      ci: change.ci,
      role,
      startedAt: change.startedAt,
      reason: changeReason(change, role, openedAt, lookbackMs),
    });
  }
  return suspects;
}

function changeReason(
  change: ImplementedChange,
  role: CiRole,
  openedAt: string,
  lookbackMs: number,
): string {
  const opened = Date.parse(openedAt);
  const since = opened - Date.parse(change.startedAt);
  const what = `${change.number} '${change.title}'`;
  const where = `on ${change.ci}, ${roleLabel[role]},`;
  if (since <= lookbackMs)
    return `${what} implemented ${where} ${ago(since)} before the first alert`;
  if (change.endedAt === null || Date.parse(change.endedAt) >= opened)
    return `${what} under way ${where} since ${ago(since)} before the first alert`;
  const until = opened - Date.parse(change.endedAt);
  return `${what} implemented ${where} from ${ago(since)} until ${ago(until)} before the first alert`;
}

/** A duration for a sentence: "under a minute", "14 min", "2 h", "3 h 5 min". */
function ago(ms: number): string {
  const minutes = Math.round(ms / MINUTE);
  if (minutes < 1) return 'under a minute';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

/**
 * Each incident's suspected change (see the module comment), in one query for the batch;
 * incidents without one are absent from the map.
 */
export async function findSuspectedChanges(
  q: Queryable,
  incidents: readonly ChangeQuery[],
  lookbackMs = defaultSuspectSettings.changeLookbackMs,
): Promise<Map<string, SuspectedChange>> {
  const changes = await implementedChanges(q, changeProbes(incidents), lookbackMs);
  return rankSuspectedChanges(incidents, changes, lookbackMs);
}

/** An incident asking for its known error. */
export type KnownErrorQuery = {
  key: string;
  rootCauseCi: string | null;
  alertingCis: readonly string[];
  /** The incident's service (incidents.service); a known error naming a service needs it. */
  service: string | null;
  /**
   * Its alerts' templates (alerts.template), or titles when there is no template; templated again
   * (idempotent), but a title's CI name is not masked here.
   */
  templates: readonly string[];
};

/** The known error an incident matched, its workaround, and why. */
export type KnownErrorMatch = {
  knownErrorId: string;
  number: string;
  title: string;
  workaround: string;
  /** Cosine similarity of its best passage to the best-matching incident template. */
  score: number;
  /** That incident template. */
  template: string;
  /** That passage of the known error: its title, its symptom, or a sentence of the symptom. */
  passage: string;
  /** "KE0001002 'Ledger DB connection pool exhausted' matches 'connection pool …' (0.82), …". */
  reason: string;
};

/**
 * What text matching compares: the template (idempotent on a template) without its placeholders.
 * Empty when a text is nothing but placeholders.
 */
export function matchWords(text: string): string {
  return toTemplate(text)
    .replace(/<[a-z]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A passage of a known error, the words compared, and their template's id in the index. */
type Passage = { text: string; words: string; template: number };

/** A cached known error, with its passages. */
type IndexedKnownError = PublishedKnownError & { passages: Passage[] };

/**
 * What a known error is compared by: its title, its symptom, and the symptom's sentences and
 * clauses (split at `.`, `;`, `!`, `?` before a space or the end, and at line breaks), each once.
 */
export function knownErrorPassages(
  known: Pick<PublishedKnownError, 'title' | 'symptom'>,
): string[] {
  const clauses = known.symptom.split(/[.;!?]+(?:\s+|$)|\n+/);
  const passages = [known.title, known.symptom, ...clauses].map((p) => p.trim());
  return [...new Set(passages.filter((p) => p !== ''))];
}

/** The known errors as read at one time, and the template index holding their passages. */
type KnownErrorCache = { readAt: number; index: TemplateIndex; knownErrors: IndexedKnownError[] };

/** Whether a known error's scope fits an incident with these CI classes and this service. */
export function knownErrorInScope(
  knownError: Pick<PublishedKnownError, 'ciClass' | 'service'>,
  classes: ReadonlySet<string>,
  service: string | null,
): boolean {
  if (knownError.ciClass !== null && !classes.has(knownError.ciClass)) return false;
  return knownError.service === null || knownError.service === service;
}

/** How many scope fields a known error sets: the more specific one wins a tie. */
const specificity = (k: PublishedKnownError) =>
  (k.ciClass === null ? 0 : 1) + (k.service === null ? 0 : 1);

type KnownErrorCandidate = {
  known: IndexedKnownError;
  score: number;
  template: string;
  passage: string;
};

/** Higher score first, then the more specific scope, then the older known error. */
const compareKnownErrors = (a: KnownErrorCandidate, b: KnownErrorCandidate) =>
  b.score - a.score ||
  specificity(b.known) - specificity(a.known) ||
  Number(a.known.id) - Number(b.known.id);

/** Matches incidents to published known errors, holding them in a cache refreshed on an interval. */
export class KnownErrorMatcher {
  readonly #minScore: number;
  readonly #refreshMs: number;
  readonly #now: () => number;
  #cache: KnownErrorCache | undefined;
  #reading: Promise<KnownErrorCache> | undefined;

  /** Settings as in SuspectSettings; `now` is the clock (ms) that ages the cache. */
  constructor(
    settings: Pick<
      SuspectSettings,
      'knownErrorMinScore' | 'knownErrorRefreshMs'
    > = defaultSuspectSettings,
    now: () => number = Date.now,
  ) {
    this.#minScore = settings.knownErrorMinScore;
    this.#refreshMs = settings.knownErrorRefreshMs;
    this.#now = now;
  }

  /** Forgets the cache, so that the next match() reads the known errors again (after an edit). */
  invalidate(): void {
    this.#cache = undefined;
  }

  /**
   * Each incident's best known error: in scope, with a passage (title, symptom or sentence) at
   * least minScore similar to one of its templates; the highest score wins, then the more specific
   * scope, then the oldest. One query for the CI classes of the batch (and one for the known
   * errors when the cache is stale). Incidents without a match are absent from the map.
   */
  async match(
    q: Queryable,
    incidents: readonly KnownErrorQuery[],
  ): Promise<Map<string, KnownErrorMatch>> {
    const matches = new Map<string, KnownErrorMatch>();
    if (incidents.length === 0) return matches;
    const { index, knownErrors } = await this.#fresh(q);
    if (knownErrors.length === 0) return matches;
    const cis = incidents.flatMap((i) => [
      ...(i.rootCauseCi ? [i.rootCauseCi] : []),
      ...i.alertingCis,
    ]);
    const classPaths = await ciClassPaths(q, cis);
    for (const known of knownErrors) {
      // The index evicts its least recently used templates; a passage must stay comparable.
      for (const passage of known.passages)
        if (!index.has(passage.template)) passage.template = index.add(passage.words);
    }
    for (const incident of incidents) {
      const classes = new Set<string>();
      for (const ci of [incident.rootCauseCi, ...incident.alertingCis])
        for (const c of (ci !== null && classPaths.get(ci)) || []) classes.add(c);
      const inScope = knownErrors.filter((k) => knownErrorInScope(k, classes, incident.service));
      if (inScope.length === 0) continue;
      // Each incident template's words, by their index id, with the template they came from.
      const templates = new Map<number, string>();
      for (const template of incident.templates) {
        const words = matchWords(template);
        if (words !== '') templates.set(index.add(words), toTemplate(template));
      }
      let best: KnownErrorCandidate | undefined;
      for (const known of inScope) {
        for (const [words, template] of templates) {
          for (const passage of known.passages) {
            const score = index.similarity(words, passage.template);
            if (score < this.#minScore || score <= 0) continue;
            const candidate = { known, score, template, passage: passage.text };
            if (!best || compareKnownErrors(candidate, best) < 0) best = candidate;
          }
        }
      }
      if (!best) continue;
      const { template } = best;
      matches.set(incident.key, {
        knownErrorId: best.known.id,
        number: best.known.number,
        title: best.known.title,
        workaround: best.known.workaround,
        score: best.score,
        template,
        passage: best.passage,
        reason: knownErrorReason(best),
      });
    }
    return matches;
  }

  /** The cache, read again when it is older than the refresh interval; one read at a time. */
  async #fresh(q: Queryable): Promise<KnownErrorCache> {
    if (this.#cache && this.#now() - this.#cache.readAt < this.#refreshMs) return this.#cache;
    this.#reading ??= this.#read(q).finally(() => {
      this.#reading = undefined;
    });
    this.#cache = await this.#reading;
    return this.#cache;
  }

  async #read(q: Queryable): Promise<KnownErrorCache> {
    const readAt = this.#now();
    const rows = await publishedKnownErrors(q);
    const index = await createTemplateIndex();
    const knownErrors = rows.map((k) => ({
      ...k,
      passages: knownErrorPassages(k).flatMap((text) => {
        const words = matchWords(text);
        return words === '' ? [] : [{ text, words, template: index.add(words) }];
      }),
    }));
    return { readAt, index, knownErrors };
  }
}

function knownErrorReason({ known, score, template, passage }: KnownErrorCandidate): string {
  const scope = [
    ...(known.ciClass === null ? [] : [`${known.ciClass} CIs`]),
    ...(known.service === null ? [] : [`the ${known.service} service`]),
  ];
  const forScope = scope.length > 0 ? `, for ${scope.join(' of ')}` : '';
  const by = passage === known.title ? 'its title' : `its symptom '${passage}'`;
  return `${known.number} '${known.title}' matches '${template}' (${score.toFixed(2)}) by ${by}${forScope}`;
}

/** An incident asking for both its suspects. */
export type SuspectQuery = ChangeQuery & KnownErrorQuery;

/** An incident's suspects; null where none qualifies. */
export type Suspects = { change: SuspectedChange | null; knownError: KnownErrorMatch | null };

/** Both look-ups for a batch, with one known-error cache: what the correlator holds. */
export class SuspectFinder {
  readonly settings: Readonly<SuspectSettings>;
  readonly knownErrors: KnownErrorMatcher;

  /** Settings over the defaults; `now` is the clock (ms) that ages the known-error cache. */
  constructor(settings: Partial<SuspectSettings> = {}, now: () => number = Date.now) {
    this.settings = resolveSuspectSettings(settings);
    this.knownErrors = new KnownErrorMatcher(this.settings, now);
  }

  /** Each incident's suspects, by key (every key present); the queries run one after the other. */
  async find(q: Queryable, incidents: readonly SuspectQuery[]): Promise<Map<string, Suspects>> {
    // Sequential: q may be one transaction's client.
    const changes = await findSuspectedChanges(q, incidents, this.settings.changeLookbackMs);
    const knownErrors = await this.knownErrors.match(q, incidents);
    return new Map(
      incidents.map((i) => [
        i.key,
        { change: changes.get(i.key) ?? null, knownError: knownErrors.get(i.key) ?? null },
      ]),
    );
  }
}
