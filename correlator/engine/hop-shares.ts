import { EventWindow } from './event-window.ts';

/**
 * How far from an incident's CIs its own alerts land, for the engine's hop-aware chance of a
 * coincidence (see its `#chance`): of the alerts the engine placed in an incident by topology
 * within a sliding window of event time, the share at each exact hop count, 0 to maxHops.
 *
 * A cascade's next alert lands mostly on or next to the CIs already alerting, an unrelated alert
 * wherever the estate has room: the farther ring holds many more CIs, so weighing each ring by
 * the share of the incident's alerts that land there, rather than crediting the incident with its
 * whole rate at every distance, is what tells them apart. The shares are learnt from the engine's
 * own decisions (the hops its explanations state), never from a model of any storm; Laplace's
 * rule ((count + 1) / (attaches + maxHops + 1)) keeps every ring possible and says "as likely at
 * any distance" with no attach yet.
 *
 * A function of the attaches' event times and hops only: an engine restored from its stored
 * alerts (whose explanations state both) counts what one that never stopped counts, as long as
 * the window is no longer than what a restore is given (the background window's bound).
 */
export class HopShares {
  readonly windowMs: number;
  readonly maxHops: number;
  /** Attaches in the window, per hop count. */
  readonly #counts: number[];
  /** The attaches' hop counts over the window. */
  readonly #window: EventWindow<number>;

  constructor(windowMs: number, maxHops: number) {
    this.windowMs = windowMs;
    this.maxHops = maxHops;
    this.#counts = new Array<number>(maxHops + 1).fill(0);
    this.#window = new EventWindow<number>(windowMs, (hops) => this.#counts[hops]!--);
  }

  /**
   * Counts an alert placed by topology `hops` from its incident's nearest CI at event time `at`,
   * the latest event time being `latest`. One older than the window, or farther than maxHops, is
   * not counted.
   */
  record(at: number, latest: number, hops: number): void {
    if (!(hops >= 0 && hops <= this.maxHops)) return;
    if (this.#window.add(at, latest, hops)) this.#counts[hops]!++;
  }

  /**
   * The share of an incident's alerts that land exactly `hops` from its nearest CI, over the
   * window ending at `latest`, by Laplace's rule.
   */
  share(latest: number, hops: number): number {
    const rings = this.maxHops + 1;
    if (this.windowMs <= 0) return 1 / rings;
    this.#window.drop(latest - this.windowMs);
    const h = Math.min(Math.max(0, hops), this.maxHops);
    return (this.#counts[h]! + 1) / (this.#window.size + rings);
  }

  /**
   * The share of an incident's alerts that land at most `hops` from its nearest CI (the sum of
   * share() over 0..hops).
   */
  shareWithin(latest: number, hops: number): number {
    let sum = 0;
    for (let h = 0; h <= Math.min(hops, this.maxHops); h++) sum += this.share(latest, h);
    return sum;
  }

  /** Attaches counted in the window, per hop count (for explanations and tests). */
  counts(latest: number): readonly number[] {
    this.#window.drop(latest - this.windowMs);
    return [...this.#counts];
  }
}
