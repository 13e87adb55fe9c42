import { describe, expect, it } from 'vitest';
import { createRandom } from '../../bench/random.ts';
import { BackgroundRate } from '../../correlator/engine/background.ts';

const MINUTE = 60_000;

type Opener = { at: number; grown: boolean; counted: boolean };

describe('the background rate', () => {
  it('counts lone alerts that had company as a count at every ask would, as openers come, grow and leave', () => {
    const windowMs = 30 * MINUTE;
    const settledMs = 15 * MINUTE;
    for (const seed of [1, 2, 3]) {
      const random = createRandom(seed);
      const next = () => random.next();
      const rate = new BackgroundRate<Opener>(windowMs);
      const openers: Opener[] = [];
      let latest = 0;
      for (let step = 0; step < 5_000; step++) {
        latest += Math.floor(next() * 2_000);
        const roll = next();
        if (roll < 0.5) {
          // Mostly in order, sometimes late (up to the window).
          const at = roll < 0.45 ? latest : latest - Math.floor(next() * windowMs * 1.2);
          // One older than the window when it comes is never counted.
          const opener = { at, grown: false, counted: at >= latest - windowMs };
          openers.push(opener);
          rate.record(at, latest, opener);
        } else if (roll < 0.8 && openers.length > 0) {
          // An opener's incident takes company, or (a person moved an alert) loses it.
          const opener = openers[Math.floor(next() * openers.length)]!;
          opener.grown = roll < 0.75;
          if (roll < 0.75) rate.regrew(opener, opener.grown);
          else rate.invalidate();
        }
        const settled = openers.filter(
          (o) => o.counted && o.at >= latest - windowMs && o.at <= latest - settledMs,
        );
        const grown = settled.filter((o) => o.grown).length;
        const expected = (grown + 1) / (settled.length + 2);
        expect(rate.growthShare(latest, settledMs, (o) => o.grown)).toBeCloseTo(expected, 12);
      }
    }
  });
});
