import { describe, expect, it } from 'vitest';
import { createRandom } from '../../bench/random.ts';
import { CompanyTimes } from '../../correlator/engine/company-times.ts';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

describe("how soon a lone alert's company comes", () => {
  it('is the mean gap of the joins in the window with one prior observation, as joins come late and leave', () => {
    const windowMs = 30 * MINUTE;
    const priorMs = 5 * MINUTE;
    for (const seed of [1, 2, 3]) {
      const random = createRandom(seed);
      const next = () => random.next();
      const times = new CompanyTimes(windowMs);
      const joins: { at: number; gapMs: number }[] = [];
      let latest = 0;
      for (let step = 0; step < 3_000; step++) {
        latest += Math.floor(next() * 5 * SECOND);
        if (next() < 0.5) {
          // Mostly in order, sometimes late (up to beyond the window); gaps in whole seconds.
          const at = next() < 0.9 ? latest : latest - Math.floor(next() * windowMs * 1.2);
          const gapMs = Math.floor(next() * 900) * SECOND;
          times.record(at, latest, gapMs);
          // One older than the window when it comes is never counted.
          if (at >= latest - windowMs) joins.push({ at, gapMs });
        }
        const inWindow = joins.filter((j) => j.at >= latest - windowMs);
        const sum = inWindow.reduce((total, j) => total + j.gapMs, 0);
        expect(times.meanGap(latest, priorMs)).toBe((sum + priorMs) / (inWindow.length + 1));
      }
    }
  });

  it('is the prior with no join seen', () => {
    expect(new CompanyTimes(30 * MINUTE).meanGap(10 * MINUTE, 5 * MINUTE)).toBe(5 * MINUTE);
  });
});
