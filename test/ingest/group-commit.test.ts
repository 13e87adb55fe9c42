import { describe, expect, it } from 'vitest';
import { createGroupCommit, type GroupCommitOptions } from '../../ingest/group-commit.ts';

/**
 * A group commit whose flushes are recorded and held until the test lets each return (by default
 * one flush at a time, of up to 100 items, 100 waiting).
 */
function heldCommit(options: Partial<GroupCommitOptions> = {}) {
  const calls: { items: number[]; release(): void; fail(err: Error): void }[] = [];
  const flush = (items: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      calls.push({
        items,
        release: () => resolve(items.map((i) => `stored ${i}`)),
        fail: reject,
      });
    });
  const commit = createGroupCommit(flush, {
    maxBatch: 100,
    maxInFlight: 1,
    maxQueuedWeight: 100,
    ...options,
  });
  return { calls, commit };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('group commit', () => {
  it('flushes a lone item at once, and what arrives meanwhile together in the next flush', async () => {
    const { calls, commit } = heldCommit();
    const first = commit.submit(1, 1)!;
    expect(calls.map((c) => c.items)).toEqual([[1]]);
    const later = [2, 3, 4].map((i) => commit.submit(i, 1)!);
    expect(calls).toHaveLength(1);
    calls[0]!.release();
    expect(await first).toBe('stored 1');
    await tick();
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3, 4]]);
    calls[1]!.release();
    expect(await Promise.all(later)).toEqual(['stored 2', 'stored 3', 'stored 4']);
    await commit.drain();
    expect(commit.backlog()).toBe(0);
  });

  it('starts a further flush beside one in flight only once minConcurrentBatch items wait', async () => {
    const { calls, commit } = heldCommit({ maxInFlight: 3, minConcurrentBatch: 3 });
    const all = [commit.submit(1, 1)!];
    all.push(commit.submit(2, 1)!, commit.submit(3, 1)!);
    expect(
      calls.map((c) => c.items),
      'two waiting: not yet worth a flush of their own',
    ).toEqual([[1]]);
    all.push(commit.submit(4, 1)!);
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3, 4]]);
    for (let i = 5; i <= 10; i++) all.push(commit.submit(i, 1)!);
    expect(
      calls.map((c) => c.items),
      'a third flush; the rest wait for a free slot',
    ).toEqual([[1], [2, 3, 4], [5, 6, 7]]);
    calls[1]!.release();
    await tick();
    expect(calls.map((c) => c.items).at(-1)).toEqual([8, 9, 10]);
    // Fewer than minConcurrentBatch left, and nothing else in flight: they go at once.
    all.push(commit.submit(11, 1)!);
    calls[0]!.release();
    calls[2]!.release();
    calls[3]!.release();
    await tick();
    expect(calls.map((c) => c.items).at(-1)).toEqual([11]);
    calls[4]!.release();
    expect(await Promise.all(all)).toEqual(Array.from({ length: 11 }, (_, i) => `stored ${i + 1}`));
  });

  it('refuses an item when the waiting weight would pass maxQueuedWeight', () => {
    const { calls, commit } = heldCommit({ maxQueuedWeight: 10 });
    void commit.submit(1, 8); // in flight: not waiting
    void commit.submit(2, 6);
    expect(commit.submit(3, 5), 'waiting 6 + 5 > 10').toBeNull();
    expect(commit.submit(4, 4)).not.toBeNull();
    expect(commit.backlog()).toBe(18);
    expect(calls).toHaveLength(1);
  });

  it('rejects every item of a failed flush, and goes on with the next', async () => {
    const { calls, commit } = heldCommit();
    const failed = commit.submit(1, 1)!;
    const next = commit.submit(2, 1)!;
    calls[0]!.fail(new Error('database away'));
    await expect(failed).rejects.toThrow('database away');
    await tick();
    calls[1]!.release();
    expect(await next).toBe('stored 2');
  });
});
