/**
 * Gathers items into batches: `flush` gets the items once `maxSize` are waiting, or `maxWaitMs` after the first of a
 * batch arrived, and returns one result per item, in order; each add() resolves to its item's result. A flush that
 * throws resolves every item of its batch with `onError`'s result. After drain() nothing waits: the batch collected so
 * far goes at once, and so does each item added later.
 */
export class BatchCollector<T, R> {
  private waiting: { item: T; resolve: (result: R) => void }[] = [];
  private timer?: NodeJS.Timeout;
  private draining = false;

  constructor(
    private readonly maxSize: number,
    private readonly maxWaitMs: number,
    private readonly flush: (items: T[]) => Promise<R[]>,
    private readonly onError: (error: unknown) => R,
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve) => {
      this.waiting.push({ item, resolve });
      if (this.draining || this.waiting.length >= this.maxSize) this.release();
      else if (this.waiting.length === 1) this.timer = setTimeout(() => this.release(), this.maxWaitMs);
    });
  }

  /** At shutdown: hands over what waits now and everything added from now on without waiting for company. */
  drain(): void {
    this.draining = true;
    if (this.waiting.length > 0) this.release();
  }

  private release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting;
    this.waiting = [];
    void this.run(batch);
  }

  /** Every item of the batch is resolved, whatever flush does: a message left waiting would be held by its consumer for good. */
  private async run(batch: { item: T; resolve: (result: R) => void }[]): Promise<void> {
    let results: R[] | undefined;
    let failure: unknown;
    try {
      results = await this.flush(batch.map((entry) => entry.item));
    } catch (error) {
      failure = error;
    }
    batch.forEach((entry, index) => {
      const result = results?.[index];
      entry.resolve(
        result !== undefined ? result : this.onError(failure ?? new Error(`the batch's flush returned no result for item ${index}`)),
      );
    });
  }
}
