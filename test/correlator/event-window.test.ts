import { describe, expect, it } from 'vitest';
import { EventWindow } from '../../correlator/engine/event-window.ts';

describe('an event-time window', () => {
  it('keeps values in event-time order, adds none older than the window, lets each leave once', () => {
    const left: string[] = [];
    const window = new EventWindow<string>(100, (v) => left.push(v));
    expect(window.add(10, 10, 'a')).toBe(true);
    expect(window.add(50, 50, 'c')).toBe(true);
    // Late but within the window: placed by its time, before c.
    expect(window.add(30, 50, 'b')).toBe(true);
    expect(window.add(40, 200, 'too old')).toBe(false);
    expect(window.size).toBe(3);
    // Adding at latest 200 lets everything before 100 leave first, in time order.
    expect(window.add(150, 200, 'd')).toBe(true);
    expect(left).toEqual(['a', 'b', 'c']);
    window.drop(140);
    window.drop(140);
    expect(left).toEqual(['a', 'b', 'c']);
    expect(window.size).toBe(1);
  });

  it('holds nothing without a window', () => {
    const window = new EventWindow<number>(0, () => {});
    expect(window.add(1, 1, 1)).toBe(false);
    expect(window.size).toBe(0);
  });

  it('answers the same after compacting past its first thousand values', () => {
    let sum = 0;
    const window = new EventWindow<number>(1_000, (v) => (sum -= v));
    for (let t = 0; t < 5_000; t++) if (window.add(t, t, t)) sum += t;
    window.drop(4_000);
    let expected = 0;
    for (let t = 4_000; t < 5_000; t++) expected += t;
    expect(window.size).toBe(1_000);
    expect(sum).toBe(expected);
  });
});
