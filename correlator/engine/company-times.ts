/**
 * How soon a lone alert's company comes, for the engine's chance that an alert near a lone
 * alert's incident is its company rather than a coincidence (see its `#chance`): of the alerts
 * that joined an incident of one alert within a sliding window of event time, the mean time
 * they came after its alert. A cascade's next alert comes at the pace of the cascade, which no
 * setting knows; crediting a lone alert with one more alert per decay time (timeDecayMs, the
 * score's time scale) over-states its company's rate long after it, where only coincidences
 * land. The mean waiting time is the exponential's maximum-likelihood scale; one prior
 * observation at the configured decay keeps it there with none seen, and sways it little once
 * some are.
 *
 * A function of the joins' event times and gaps only: an engine restored from its stored alerts
 * (whose explanations state both, and whether the incident they joined had one alert) counts
 * what one that never stopped counts, as long as the window is no longer than what a restore is
 * given (the background window's bound).
 */
export class CompanyTimes {
  readonly windowMs: number;
  /** Ascending by time; those before #head have left the window. */
  #times: number[] = [];
  #gaps: number[] = [];
  #head = 0;
  /** The gaps in the window, summed (whole seconds' worth of ms: the sum is exact). */
  #sum = 0;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /**
   * Counts an alert that joined an incident of one alert at event time `at`, `gapMs` after that
   * alert, the latest event time being `latest`. One older than the window is not counted.
   */
  record(at: number, latest: number, gapMs: number): void {
    if (this.windowMs <= 0 || at < latest - this.windowMs || !(gapMs >= 0)) return;
    this.#drop(latest - this.windowMs);
    const times = this.#times;
    let lo = times.length;
    // Nearly always an append: alerts come about in event-time order.
    if (lo > this.#head && times[lo - 1]! > at) {
      lo = this.#head;
      let hi = times.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (times[mid]! <= at) lo = mid + 1;
        else hi = mid;
      }
    }
    times.splice(lo, 0, at);
    this.#gaps.splice(lo, 0, gapMs);
    this.#sum += gapMs;
  }

  /**
   * The mean time a lone alert's company came after it, over the window ending at `latest`, with
   * one prior observation at `priorMs`.
   */
  meanGap(latest: number, priorMs: number): number {
    if (this.windowMs <= 0) return priorMs;
    this.#drop(latest - this.windowMs);
    return (this.#sum + priorMs) / (this.#times.length - this.#head + 1);
  }

  /** Drops the joins before `from` (which never moves back). */
  #drop(from: number): void {
    const times = this.#times;
    while (this.#head < times.length && times[this.#head]! < from) {
      this.#sum -= this.#gaps[this.#head]!;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > times.length) {
      this.#times = times.slice(this.#head);
      this.#gaps = this.#gaps.slice(this.#head);
      this.#head = 0;
    }
  }
}
