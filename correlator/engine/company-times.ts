import { EventWindow } from './event-window.ts';

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
  /** The gaps in the window, summed (whole seconds' worth of ms: the sum is exact). */
  #sum = 0;
  /** The joins' gaps over the window. */
  readonly #window: EventWindow<number>;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
    this.#window = new EventWindow<number>(windowMs, (gapMs) => (this.#sum -= gapMs));
  }

  /**
   * Counts an alert that joined an incident of one alert at event time `at`, `gapMs` after that
   * alert, the latest event time being `latest`. One older than the window is not counted.
   */
  record(at: number, latest: number, gapMs: number): void {
    if (!(gapMs >= 0)) return;
    if (this.#window.add(at, latest, gapMs)) this.#sum += gapMs;
  }

  /**
   * The mean time a lone alert's company came after it, over the window ending at `latest`, with
   * one prior observation at `priorMs`.
   */
  meanGap(latest: number, priorMs: number): number {
    if (this.windowMs <= 0) return priorMs;
    this.#window.drop(latest - this.windowMs);
    return (this.#sum + priorMs) / (this.#window.size + 1);
  }
}
