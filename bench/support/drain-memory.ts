/** The memory a drain subject reports (bench/memory.ts): RSS sampled from before the consumer connected to the end. */

/** Samples RSS (and heapUsed) every `everyMs`, keeping the peaks. */
class RssSampler {
  peak = 0;
  heapPeak = 0;
  private timer?: NodeJS.Timeout;

  start(everyMs = 25): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  sample(): number {
    const { rss, heapUsed } = process.memoryUsage();
    if (rss > this.peak) this.peak = rss;
    if (heapUsed > this.heapPeak) this.heapPeak = heapUsed;
    return rss;
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

/** Heap still in use after a full GC (needs --expose-gc; the runner passes it to memory subjects), else heapUsed. */
function retainedHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Create it before the consumer connects, call `onHandled` with the running count after each handled message and
 * `finish` once the backlog is drained. `atFirst: false` leaves out rssAtFirst (RSS at the first message) and
 * heapPeak (the heapUsed peak): the SNS+SQS subjects do not report them, and bench/memory.ts shows '–' there.
 */
export class DrainMemory {
  private readonly rss = new RssSampler();
  private readonly rssStart: number;
  private rssAtFirst = 0;
  private rssAtMark = 0;
  private heapAtMark = 0;

  constructor(
    private readonly markAt: number,
    private readonly atFirst = true,
  ) {
    this.rss.start();
    this.rssStart = process.memoryUsage.rss();
  }

  onHandled(count: number): void {
    if (this.atFirst && count === 1) this.rssAtFirst = this.rss.sample();
    if (count === this.markAt) {
      this.rssAtMark = this.rss.sample();
      this.heapAtMark = retainedHeap();
    }
  }

  finish() {
    const rssAtEnd = this.rss.sample();
    const heapAtEnd = retainedHeap();
    this.rss.stop();
    const { rssStart, rssAtFirst, rssAtMark, heapAtMark } = this;
    const rssPeak = this.rss.peak;
    if (!this.atFirst) return { rssStart, rssAtMark, rssAtEnd, rssPeak, heapAtMark, heapAtEnd };
    return { rssStart, rssAtFirst, rssAtMark, rssAtEnd, rssPeak, heapPeak: this.rss.heapPeak, heapAtMark, heapAtEnd };
  }
}
