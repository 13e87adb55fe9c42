import { describe, expect, it } from 'vitest';
import { createRandom } from '../../bench/random.ts';
import { HopShares } from '../../correlator/engine/hop-shares.ts';

const MINUTE = 60_000;

describe('how far from their incidents alerts land', () => {
  it('says as likely at any distance with no attach, by Laplace’s rule', () => {
    const shares = new HopShares(30 * MINUTE, 3);
    expect([0, 1, 2, 3].map((h) => shares.share(0, h))).toEqual([0.25, 0.25, 0.25, 0.25]);
    shares.record(0, 0, 1);
    shares.record(1, 1, 1);
    shares.record(2, 2, 0);
    // (count + 1) / (3 + 4).
    expect([0, 1, 2, 3].map((h) => shares.share(2, h))).toEqual([2 / 7, 3 / 7, 1 / 7, 1 / 7]);
    // Farther than maxHops, or older than the window when it comes, is never counted.
    shares.record(2, 2, 4);
    shares.record(-40 * MINUTE, 2, 2);
    expect(shares.counts(2)).toEqual([1, 2, 0, 0]);
    // Within a hop count: the rings up to it, all of them making 1.
    [2 / 7, 5 / 7, 6 / 7, 1].forEach((share, h) =>
      expect(shares.shareWithin(2, h)).toBeCloseTo(share, 12),
    );
    expect(shares.shareWithin(2, 9)).toBeCloseTo(1, 12);
  });

  it('counts the attaches within the window as a count at every ask would, late ones too', () => {
    const windowMs = 30 * MINUTE;
    for (const seed of [1, 2, 3]) {
      const draws = createRandom(seed);
      const next = () => draws.next();
      const shares = new HopShares(windowMs, 3);
      const recorded: { at: number; hops: number }[] = [];
      let latest = 0;
      for (let step = 0; step < 5_000; step++) {
        latest += Math.floor(next() * 2_000);
        const hops = Math.floor(next() * 4);
        // Mostly in order, sometimes late (up to beyond the window).
        const at = next() < 0.9 ? latest : latest - Math.floor(next() * windowMs * 1.2);
        shares.record(at, latest, hops);
        if (at >= latest - windowMs) recorded.push({ at, hops });
        if (step % 97 === 0) {
          const inWindow = recorded.filter((r) => r.at >= latest - windowMs);
          const counts = [0, 1, 2, 3].map((h) => inWindow.filter((r) => r.hops === h).length);
          expect(shares.counts(latest)).toEqual(counts);
          expect(shares.share(latest, 2)).toBeCloseTo((counts[2]! + 1) / (inWindow.length + 4));
        }
      }
    }
  });
});
