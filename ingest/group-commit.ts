/** Limits of a group committer. */
export type GroupCommitOptions = {
  /** Most items written by one flush. */
  maxBatch: number;
  /** Flushes running at once; a new one starts as soon as one returns, never on a timer. */
  maxInFlight: number;
  /** Most weight (alerts) waiting for a flush; beyond it submissions are refused (overload). */
  maxQueuedWeight: number;
  /**
   * Fewest items a flush takes when another is already in flight (default 1). The first flush
   * always starts at once; further ones wait until this many items wait, so that overlapping
   * flushes hide a slow commit's latency without splitting the load into small batches.
   */
  minConcurrentBatch?: number;
};

type Waiting<I, O> = {
  item: I;
  weight: number;
  resolve(result: O): void;
  reject(err: unknown): void;
};

/** Submits items to be written together with whatever else is waiting. */
export type GroupCommit<I, O> = {
  /** Resolves once the item's batch is written; null when the queue is full (shed the load). */
  submit(item: I, weight: number): Promise<O> | null;
  /** Weight waiting or being written. */
  backlog(): number;
  /** Resolves once nothing is waiting or in flight. */
  drain(): Promise<void>;
};

/**
 * Group commit: concurrent submissions share one write (one INSERT, one commit, one queue job)
 * instead of one each. A flush starts at once when a slot is free and takes everything waiting,
 * so batches grow with the load and a lone request waits for nobody. `flush` returns one result
 * per item, in order; if it throws, every item of that batch is rejected with the error.
 */
export function createGroupCommit<I, O>(
  flush: (items: I[]) => Promise<O[]>,
  options: GroupCommitOptions,
): GroupCommit<I, O> {
  const queue: Waiting<I, O>[] = [];
  let queuedWeight = 0;
  let inFlightWeight = 0;
  let inFlight = 0;
  let idle: (() => void)[] = [];

  function pump(): void {
    while (
      inFlight < options.maxInFlight &&
      queue.length > 0 &&
      (inFlight === 0 || queue.length >= (options.minConcurrentBatch ?? 1))
    ) {
      const batch = queue.splice(0, options.maxBatch);
      const weight = batch.reduce((sum, w) => sum + w.weight, 0);
      queuedWeight -= weight;
      inFlightWeight += weight;
      inFlight++;
      void run(batch, weight);
    }
    if (inFlight === 0 && queue.length === 0) {
      for (const done of idle) done();
      idle = [];
    }
  }

  async function run(batch: Waiting<I, O>[], weight: number): Promise<void> {
    try {
      const results = await flush(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      inFlight--;
      inFlightWeight -= weight;
      pump();
    }
  }

  return {
    submit(item, weight) {
      if (queuedWeight + weight > options.maxQueuedWeight && queue.length > 0) return null;
      const promise = new Promise<O>((resolve, reject) => {
        queue.push({ item, weight, resolve, reject });
      });
      queuedWeight += weight;
      pump();
      return promise;
    },
    backlog: () => queuedWeight + inFlightWeight,
    drain: () =>
      inFlight === 0 && queue.length === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => idle.push(resolve)),
  };
}
