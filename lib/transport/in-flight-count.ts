/**
 * Counts work in flight and tells when none is left: what a consumer waits on at stop, without a Set of promises
 * and a `finally` per message on the hot path.
 */
export class InFlightCount {
  private count = 0;
  private idle?: { promise: Promise<void>; resolve: () => void };

  get size(): number {
    return this.count;
  }

  start(): void {
    this.count += 1;
  }

  finish(): void {
    if (--this.count > 0 || !this.idle) return;
    this.idle.resolve();
    this.idle = undefined;
  }

  /** Resolves once the count is back at zero (at once when it is). */
  whenIdle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    if (!this.idle) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.idle = { promise, resolve };
    }
    return this.idle.promise;
  }
}
