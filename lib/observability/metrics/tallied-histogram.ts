/** prom-client's default histogram buckets, in seconds. */
const SECONDS_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One label set's observations. */
export class HistogramTally {
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly buckets: readonly number[] = SECONDS_BUCKETS,
  ) {
    this.counts = new Float64Array(buckets.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * A Prometheus histogram that a prom-client Registry reports like its own (the registry reads `name`, `help`, `type`
 * and `get()`, and calls `reset()`), observed without prom-client's per-call label validation and hashing: each
 * label set is a HistogramTally the caller keeps. Written here because prom-client's Histogram hashes the labels on
 * every observe, even through a child, which per message cost more than the rest of the metrics together.
 */
export class TalliedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly tallies = new Map<string, HistogramTally>();

  /** `buckets`: the upper bounds, ascending (default: prom-client's, in seconds). */
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly buckets: readonly number[] = SECONDS_BUCKETS,
  ) {}

  /** The tally of one label set (every label name given), created on first use. */
  tally(labels: Readonly<Record<string, string>>): HistogramTally {
    const key = this.labelNames.map((n) => labels[n]).join('\u0000');
    let t = this.tallies.get(key);
    if (!t) this.tallies.set(key, (t = new HistogramTally(labels, this.buckets)));
    return t;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }> {
    const values: MetricValue[] = [];
    for (const t of this.tallies.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += t.counts[i];
        values.push({ labels: { le, ...t.labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push(
        { labels: { le: '+Inf', ...t.labels }, value: t.count, metricName: `${this.name}_bucket` },
        { labels: { ...t.labels }, value: t.sum, metricName: `${this.name}_sum` },
        { labels: { ...t.labels }, value: t.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const t of this.tallies.values()) {
      t.counts.fill(0);
      t.sum = 0;
      t.count = 0;
    }
  }
}
