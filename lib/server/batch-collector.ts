/**
 * Gathers items into batches: `flush` gets the items once `maxSize` are waiting, or `maxWaitMs` after the first of a
 * batch arrived, and returns one result per item, in order; each add() resolves to its item's result. A flush that
 * throws resolves every item of its batch with `onError`'s result.
 */
export class BatchCollector<T, R> {
  private waiting: { item: T; resolve: (result: R) => void }[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly maxSize: number,
    private readonly maxWaitMs: number,
    private readonly flush: (items: T[]) => Promise<R[]>,
    private readonly onError: (error: unknown) => R,
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve) => {
      this.waiting.push({ item, resolve });
      if (this.waiting.length >= this.maxSize) this.release();
      else if (this.waiting.length === 1) this.timer = setTimeout(() => this.release(), this.maxWaitMs);
    });
  }

  private release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting;
    this.waiting = [];
    void this.run(batch);
  }

  private async run(batch: { item: T; resolve: (result: R) => void }[]): Promise<void> {
    let results: R[];
    try {
      results = await this.flush(batch.map((entry) => entry.item));
    } catch (error) {
      const result = this.onError(error);
      results = batch.map(() => result);
    }
    batch.forEach((entry, index) => entry.resolve(results[index]));
  }
}
