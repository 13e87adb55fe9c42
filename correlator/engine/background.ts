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

/** The openers within the last `windowMs` of event time, each with what identifies it. */
export class BackgroundRate<T> {
  readonly windowMs: number;
  readonly #openers = new SlidingWindow<T>();

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /**
   * Counts an alert that opened its own incident at event time `at`, the latest event time being
   * `latest`. One older than the window is not counted: it could never count again.
   */
  record(at: number, latest: number, opener: T): void {
    if (this.windowMs <= 0 || at < latest - this.windowMs) return;
    this.#openers.add(at, opener);
  }

  /**
   * Background alerts per CI per ms over the window ending at `latest`, spread evenly over an
   * estate of `cis` CIs; 0 without a window or an estate.
   */
  perCi(latest: number, cis: number): number {
    if (this.windowMs <= 0 || cis <= 0) return 0;
    return this.#openers.since(latest - this.windowMs) / (this.windowMs * cis);
  }

  /**
   * The chance that a lone alert is the first of an incident that goes on to take another: of the
   * openers in the window at least `settledMs` old (old enough that a second alert would have come
   * within an incident's window), the share that `grew` holds for, by Laplace's rule of succession
   * ((grown + 1) / (settled + 2)), so that a few openers, or none, say little: ½ with none.
   */
  growthShare(latest: number, settledMs: number, grew: (opener: T) => boolean): number {
    let settled = 0;
    let grown = 0;
    if (this.windowMs > 0)
      this.#openers.forEachBetween(latest - this.windowMs, latest - settledMs, (opener) => {
        settled++;
        if (grew(opener)) grown++;
      });
    return (grown + 1) / (settled + 2);
  }
}

/** Event times with a value each, kept from a moving start (which only moves on, as event time does). */
class SlidingWindow<T> {
  /** Ascending by time; those before #head have left the window. */
  #times: number[] = [];
  #values: T[] = [];
  #head = 0;

  add(at: number, value: T): void {
    const times = this.#times;
    // Nearly always an append: alerts come about in event-time order.
    let lo = this.#head;
    let hi = times.length;
    if (hi === lo || times[hi - 1]! <= at) lo = hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (times[mid]! <= at) lo = mid + 1;
      else hi = mid;
    }
    times.splice(lo, 0, at);
    this.#values.splice(lo, 0, value);
  }

  /** How many are at or after `from`; those before it are dropped (`from` never moves back). */
  since(from: number): number {
    this.#drop(from);
    return this.#times.length - this.#head;
  }

  /** Calls `f` with each value at or after `from` and at or before `to`, in time order. */
  forEachBetween(from: number, to: number, f: (value: T) => void): void {
    this.#drop(from);
    const times = this.#times;
    for (let i = this.#head; i < times.length && times[i]! <= to; i++) f(this.#values[i]!);
  }

  #drop(from: number): void {
    const times = this.#times;
    while (this.#head < times.length && times[this.#head]! < from) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > times.length) {
      this.#times = times.slice(this.#head);
      this.#values = this.#values.slice(this.#head);
      this.#head = 0;
    }
  }
}
