/**
 * Values stamped with event times, held over a sliding window that ends at the latest event time
 * the engine has seen: what the engine's learnt rates (HopShares, CompanyTimes) count over. A
 * value older than the window is never added, and each leaves when the window passes it, through
 * `onLeave`, so that its owner keeps running totals rather than counting at each ask. Event
 * times, never the clock: an engine restored from its stored alerts holds what one that never
 * stopped holds.
 */
export class EventWindow<V> {
  readonly windowMs: number;
  readonly #onLeave: (value: V) => void;
  /** Ascending by time; those before #head have left the window. */
  #times: number[] = [];
  #values: V[] = [];
  #head = 0;

  constructor(windowMs: number, onLeave: (value: V) => void) {
    this.windowMs = windowMs;
    this.#onLeave = onLeave;
  }

  /** How many values are in the window as last dropped (see drop). */
  get size(): number {
    return this.#times.length - this.#head;
  }

  /**
   * Adds a value at event time `at`, the latest event time being `latest`; false, adding
   * nothing, when there is no window or `at` is older than it.
   */
  add(at: number, latest: number, value: V): boolean {
    if (this.windowMs <= 0 || at < latest - this.windowMs) return false;
    this.drop(latest - this.windowMs);
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
    this.#values.splice(lo, 0, value);
    return true;
  }

  /** Lets the values before `from` (which never moves back) leave, each through onLeave. */
  drop(from: number): void {
    const times = this.#times;
    while (this.#head < times.length && times[this.#head]! < from) {
      this.#onLeave(this.#values[this.#head]!);
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > times.length) {
      this.#times = times.slice(this.#head);
      this.#values = this.#values.slice(this.#head);
      this.#head = 0;
    }
  }
}
