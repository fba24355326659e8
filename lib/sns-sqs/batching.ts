/** SQS and SNS take at most 10 entries per *Batch call. */
export const MAX_BATCH_ENTRIES = 10;

/** SQS and SNS take at most 256 KiB for one message (body + attributes) and for one *Batch request. */
export const MAX_PAYLOAD_BYTES = 262_144;

/** `items` in consecutive groups of at most 10, one per *Batch call. */
export function batchesOf<T>(items: readonly T[]): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += MAX_BATCH_ENTRIES) batches.push(items.slice(i, i + MAX_BATCH_ENTRIES));
  return batches;
}

/**
 * Collects items and hands them to `send` in batches: as soon as a batch is full (10 entries, or `fits` says the
 * next item would overflow it) or on the next tick, so a lone item is not held back.
 */
export class NextTickBatcher<T> {
  private pending: T[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly send: (batch: T[]) => Promise<void>,
    private readonly fits: (batch: readonly T[], item: T) => boolean = () => true,
  ) {}

  add(item: T): void {
    if (this.pending.length > 0 && !this.fits(this.pending, item)) this.sendPending();
    this.pending.push(item);
    if (this.pending.length >= MAX_BATCH_ENTRIES) {
      this.sendPending();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        if (this.pending.length > 0) this.sendPending();
      });
    }
  }

  /** Sends what is pending and waits for every batch in flight, including items a send adds back (retries). */
  async flush(): Promise<void> {
    while (this.pending.length > 0 || this.inFlight.size > 0) {
      while (this.pending.length > 0) this.sendPending();
      await Promise.allSettled([...this.inFlight]);
    }
  }

  private sendPending(): void {
    const done = this.send(this.pending.splice(0, MAX_BATCH_ENTRIES));
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }
}
