import { jest } from '@jest/globals';
import { BatchCollector } from '../../../lib/server/batch-collector.js';

describe('BatchCollector', () => {
  afterEach(() => jest.useRealTimers());

  it('flushes once maxSize items wait, without waiting for maxWaitMs, resolving each item with its own result', async () => {
    const flushed: number[][] = [];
    const collector = new BatchCollector<number, string>(
      3,
      60_000,
      async (items) => {
        flushed.push(items);
        return items.map((n) => `r${n}`);
      },
      () => 'error',
    );
    const results = await Promise.all([1, 2, 3].map((n) => collector.add(n)));
    expect(flushed).toEqual([[1, 2, 3]]);
    expect(results).toEqual(['r1', 'r2', 'r3']);
  });

  it('resolves every item even when flush returns fewer results than items: the missing ones get the error result', async () => {
    const collector = new BatchCollector<number, string>(
      2,
      60_000,
      async () => ['only one'],
      (error) => `error: ${(error as Error).message}`,
    );
    const results = await Promise.all([1, 2].map((n) => collector.add(n)));
    expect(results).toEqual(['only one', "error: the batch's flush returned no result for item 1"]);
  });

  it('flushes a partial batch maxWaitMs after its first item, and starts the next batch afresh', async () => {
    jest.useFakeTimers();
    const flushed: number[][] = [];
    const collector = new BatchCollector<number, number>(
      10,
      200,
      async (items) => {
        flushed.push(items);
        return items.map((n) => n * 2);
      },
      () => -1,
    );
    const first = collector.add(1);
    jest.advanceTimersByTime(100);
    const second = collector.add(2);
    jest.advanceTimersByTime(99);
    expect(flushed).toEqual([]);
    jest.advanceTimersByTime(1); // 200 ms after the first item, not after the second
    expect(await Promise.all([first, second])).toEqual([2, 4]);
    expect(flushed).toEqual([[1, 2]]);

    const third = collector.add(3);
    jest.advanceTimersByTime(199);
    expect(flushed).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(await third).toBe(6);
    expect(flushed).toEqual([[1, 2], [3]]);
  });

  it('keeps collecting the next batch while a flushed one is still running', async () => {
    let finishFirst!: () => void;
    const running = new Promise<void>((resolve) => (finishFirst = resolve));
    const flushed: number[][] = [];
    const collector = new BatchCollector<number, number>(
      2,
      60_000,
      async (items) => {
        flushed.push(items);
        if (items[0] === 1) await running;
        return items;
      },
      () => -1,
    );
    const firstBatch = Promise.all([collector.add(1), collector.add(2)]);
    const secondBatch = Promise.all([collector.add(3), collector.add(4)]);
    expect(await secondBatch).toEqual([3, 4]);
    finishFirst();
    expect(await firstBatch).toEqual([1, 2]);
    expect(flushed).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('after drain() hands over the waiting batch at once, and each later item without waiting', async () => {
    const flushed: number[][] = [];
    const collector = new BatchCollector<number, number>(
      10,
      60_000,
      async (items) => {
        flushed.push(items);
        return items;
      },
      () => -1,
    );
    const waiting = Promise.all([collector.add(1), collector.add(2)]);
    collector.drain();
    expect(await waiting).toEqual([1, 2]);
    expect(await collector.add(3)).toBe(3);
    expect(flushed).toEqual([[1, 2], [3]]);
  });

  it("resolves every item of a batch whose flush threw with onError's result", async () => {
    const collector = new BatchCollector<number, string>(
      2,
      60_000,
      async () => {
        throw new Error('boom');
      },
      (error) => `failed: ${(error as Error).message}`,
    );
    expect(await Promise.all([collector.add(1), collector.add(2)])).toEqual(['failed: boom', 'failed: boom']);
  });
});
