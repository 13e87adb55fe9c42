/**
 * The background alert rate, for the engine's chance correction (see its `#chance`): how often
 * alerts arrive that belong to nothing live, counted as the alerts that opened their own incident
 * within a sliding window of event time; and, of those openers old enough to have been joined,
 * the share whose incident took another alert: how often a lone alert turns out to be the first
 * of an incident rather than a lone background alert.
 *
 * Both are functions of the openers' event times and of the incidents they ended up in, never of
 * the clock or of when they were processed: an engine restored from its stored alerts (whose
 * explanations say which opened their incident) counts what one that never stopped counts, as
 * long as the window is no longer than what a restore is given (windowMs + refireGraceMs;
 * config.ts checks it).
 */

/**
 * The openers within the last `windowMs` of event time, each with what identifies it and whether
 * its incident has company (has taken another alert).
 *
 * growthShare() is asked once for nearly every alert, and the settled openers are a quarter of an
 * hour of them (tens of thousands at a thousand alerts a second), so their counts are kept as
 * event time moves rather than counted at each ask: an opener is counted as it enters the settled
 * span and as it leaves the window, and the engine reports each change of an opener's company
 * (regrew) as it happens. What the engine cannot report change by change (a person's edits, a
 * restore) it says with invalidate(), and the next ask counts afresh with its predicate.
 */
export class BackgroundRate<T> {
  readonly windowMs: number;
  /** Ascending by time; those before #head have left the window. */
  #times: number[] = [];
  #values: T[] = [];
  /** Whether each opener's incident has company, as counted. */
  #grown: boolean[] = [];
  #head = 0;
  /** The event time of each opener in #times (to find it when its company changes). */
  readonly #timeOf = new Map<T, number>();
  /** Openers [#head, #settledEnd) are the settled ones counted; #grownSettled of them grew. */
  #settledEnd = 0;
  #grownSettled = 0;
  /** Whether the counts and flags must be taken afresh at the next ask. */
  #stale = false;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /**
   * Counts an alert that opened its own incident at event time `at`, the latest event time being
   * `latest`; its incident has no company yet. One older than the window is not counted: it could
   * never count again.
   */
  record(at: number, latest: number, opener: T): void {
    if (this.windowMs <= 0 || at < latest - this.windowMs) return;
    // Those that left the window go here too, not only when asked: an engine that never asks
    // (no chance correction) would otherwise hold every opener it ever had.
    this.#drop(latest - this.windowMs);
    const times = this.#times;
    // Nearly always an append: alerts come about in event-time order.
    const lo =
      times.length === this.#head || times.at(-1)! <= at ? times.length : this.#bound(at, true);
    times.splice(lo, 0, at);
    this.#values.splice(lo, 0, opener);
    this.#grown.splice(lo, 0, false);
    this.#timeOf.set(opener, at);
    // A late one among the settled is settled at once.
    if (lo < this.#settledEnd) this.#settledEnd++;
  }

  /** Says whether an opener's incident now has company (nothing if it is not a counted opener). */
  regrew(opener: T, grown: boolean): void {
    const at = this.#timeOf.get(opener);
    if (at === undefined || this.#stale) return;
    const i = this.#indexOf(opener, at);
    if (i < 0 || this.#grown[i] === grown) return;
    this.#grown[i] = grown;
    if (i < this.#settledEnd) this.#grownSettled += grown ? 1 : -1;
  }

  /** Openers' company changed in ways not reported: the next ask counts afresh. */
  invalidate(): void {
    this.#stale = true;
  }

  /**
   * Background alerts per CI per ms over the window ending at `latest`, spread evenly over an
   * estate of `cis` CIs; 0 without a window or an estate.
   */
  perCi(latest: number, cis: number): number {
    if (this.windowMs <= 0 || cis <= 0) return 0;
    this.#drop(latest - this.windowMs);
    return (this.#times.length - this.#head) / (this.windowMs * cis);
  }

  /**
   * The chance that a lone alert is the first of an incident that goes on to take another: of the
   * openers in the window at least `settledMs` old (old enough that a second alert would have come
   * within an incident's window), the share whose incident has company, by Laplace's rule of
   * succession ((grown + 1) / (settled + 2)), so that a few openers, or none, say little: ½ with
   * none. `grew` says whether an opener's incident has company; it is asked only after
   * invalidate(), of every opener in the window. `latest` never moves back, nor `settledMs`.
   */
  growthShare(latest: number, settledMs: number, grew: (opener: T) => boolean): number {
    if (this.windowMs <= 0) return 0.5;
    this.#drop(latest - this.windowMs);
    const times = this.#times;
    const to = latest - settledMs;
    if (this.#stale) {
      this.#stale = false;
      this.#settledEnd = this.#head;
      this.#grownSettled = 0;
      for (let i = this.#head; i < times.length; i++) this.#grown[i] = grew(this.#values[i]!);
    }
    while (this.#settledEnd < times.length && times[this.#settledEnd]! <= to) {
      if (this.#grown[this.#settledEnd]) this.#grownSettled++;
      this.#settledEnd++;
    }
    return (this.#grownSettled + 1) / (this.#settledEnd - this.#head + 2);
  }

  #indexOf(opener: T, at: number): number {
    const times = this.#times;
    for (let i = this.#bound(at, false); i < times.length && times[i] === at; i++)
      if (this.#values[i] === opener) return i;
    return -1;
  }

  /** The first opener in the window after `at` (`after`), or at or after it. */
  #bound(at: number, after: boolean): number {
    const times = this.#times;
    let lo = this.#head;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (times[mid]! < at || (after && times[mid] === at)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drops the openers before `from` (which never moves back), uncounting the settled ones. */
  #drop(from: number): void {
    const times = this.#times;
    while (this.#head < times.length && times[this.#head]! < from) {
      if (this.#head < this.#settledEnd) {
        if (this.#grown[this.#head]) this.#grownSettled--;
      } else this.#settledEnd++;
      this.#timeOf.delete(this.#values[this.#head]!);
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > times.length) {
      this.#times = times.slice(this.#head);
      this.#values = this.#values.slice(this.#head);
      this.#grown = this.#grown.slice(this.#head);
      this.#settledEnd -= this.#head;
      this.#head = 0;
    }
  }
}
