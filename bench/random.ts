/**
 * The seeded randomness of the benches' data generators: mulberry32, seeded from several integers
 * so that each part (a storm's estate, its schedule, each fault; each generated record) draws from
 * its own stream and a change to one part leaves the others as they were.
 */

/** A source of uniform numbers in [0, 1), and the draws built on it. */
export type Random = {
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  exponential(mean: number): number;
};

/** A deterministic generator: the same seeds always give the same draws. */
export function createRandom(...seeds: number[]): Random {
  let a = 0x9e3779b9;
  for (const s of seeds) {
    a = Math.imul(a ^ (s | 0), 0x85ebca6b);
    a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
    a ^= a >>> 16;
  }
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (items) => {
      if (items.length === 0) throw new Error('random: pick from an empty list');
      return items[Math.floor(next() * items.length)]!;
    },
    chance: (p) => next() < p,
    exponential: (mean) => -Math.log(1 - next()) * mean,
  };
}
