/**
 * The background alert rate, for the engine's chance correction (see its `#chance`): how often
 * alerts arrive that belong to nothing live, counted as the alerts that opened their own incident
 * within a sliding window of event time.
 *
 * It is a function of the openers' event times alone, never of the clock or of when they were
 * processed: an engine restored from its stored alerts (whose explanations say which opened their
 * incident) counts what one that never stopped counts, as long as the window is no longer than
 * what a restore is given (windowMs + refireGraceMs; config.ts checks it).
 */

/** The openers within the last `windowMs` of event time. */
export class BackgroundRate {
  readonly windowMs: number;
  readonly #openers = new SlidingCount();

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /**
   * Counts an alert that opened its own incident at event time `at`, the latest event time being
   * `latest`. One older than the window is not counted: it could never count again.
   */
  record(at: number, latest: number): void {
    if (this.windowMs <= 0 || at < latest - this.windowMs) return;
    this.#openers.add(at);
  }

  /**
   * Background alerts per CI per ms over the window ending at `latest`, spread evenly over an
   * estate of `cis` CIs; 0 without a window or an estate.
   */
  perCi(latest: number, cis: number): number {
    if (this.windowMs <= 0 || cis <= 0) return 0;
    return this.#openers.since(latest - this.windowMs) / (this.windowMs * cis);
  }
}

/** Event times, counted from a moving start (which only moves on, as event time does). */
class SlidingCount {
  /** Ascending; those before #head have left the window. */
  #times: number[] = [];
  #head = 0;

  add(at: number): void {
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
  }

  /** How many are at or after `from`; those before it are dropped (`from` never moves back). */
  since(from: number): number {
    const times = this.#times;
    while (this.#head < times.length && times[this.#head]! < from) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > times.length) {
      this.#times = times.slice(this.#head);
      this.#head = 0;
    }
    return this.#times.length - this.#head;
  }
}
