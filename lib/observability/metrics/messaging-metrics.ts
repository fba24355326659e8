import type { OnModuleDestroy } from '@nestjs/common';
import type * as PromClient from 'prom-client';
import type { Observable, Subscription } from 'rxjs';
import type { MetricsRegistry, TransportName } from '../../messaging.options.js';
import type { BrokerStatus, QueueDepth } from '../../transport/broker.js';
import type { DeliveryListener, SettledAction } from '../delivery-observers.js';
import type { PublishEvent, PublishListener } from '../publish-event.js';
import { collectInto } from './collect-hook.js';
import { TalliedHistogram, type HistogramTally } from './tallied-histogram.js';

/** messaging_batch_size's bounds: batch sizes run from 1 to the largest maxSize (1000). */
const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/** The `topic` label of a delivery no handler matched: its real topic could be anything. */
const UNMATCHED_TOPIC = '(no handler)';

type Labels = 'connection' | 'transport' | 'queue' | 'topic';

/** One connection's sources: the default connection's are given to the constructor, a named one's to attach(). */
export interface MetricsSources {
  /** The `connection` label: `'default'`, or the name of `MessagingModule.forRoot({ name })`. */
  connection: string;
  transport: TransportName;
  /** MessagingServer: what happens to deliveries (the same observation point as events$). */
  deliveries: { addDeliveryListener(listener: DeliveryListener): () => void };
  /** MessagingClient: each emit's result (the same as published$). */
  publishes: { addPublishListener(listener: PublishListener): () => void };
  status$: Observable<BrokerStatus>;
  /** Read at scrape time for messaging_queue_depth (metrics.queueDepth); undefined leaves the gauge empty. */
  queueDepths?: () => Promise<QueueDepth[]>;
}

type ConnectionLabels = Record<'connection' | 'transport', string>;
/** One connection's delivery tallies: queue -> pattern -> tally. */
type DeliveryTallies = Map<string, Map<string, DeliveryTally>>;

/** Per queue and topic: what happened since the last scrape, and what is in flight now. */
interface DeliveryTally {
  labels: Record<Labels, string>;
  received: number;
  success: number;
  retry: number;
  deadLetter: number;
  inFlight: number;
  duration: HistogramTally;
  /** Only for a batch handler's queue and topic, from its first batch on. */
  batchSize?: HistogramTally;
}

/** Per topic and outcome: emits since the last scrape. */
interface PublishTally {
  labels: Record<'connection' | 'transport' | 'topic', string>;
  success: number;
  failure: number;
  unknown: number;
  duration: HistogramTally;
}

/**
 * The Prometheus metrics of one MessagingModule, fed by the server's delivery listener and the client's publish
 * listener (the observation points of events$ and published$, without an event object per message) and the broker
 * status. Created by MessagingModule with `metrics: true | { registry }` (prom-client is loaded then, not
 * before); on a registry that already holds them (a second app in the process) the existing metrics are reused.
 *
 * Counters and the in-flight gauge are plain numbers on the hot path, handed to prom-client when the registry is
 * read (its `collect` hook): prom-client hashes the labels on every call, which per message costs more than the rest
 * of the instrumentation together. The histograms are TalliedHistograms, reported by the registry like its own.
 */
export class MessagingMetrics implements OnModuleDestroy {
  readonly registry: MetricsRegistry;
  private readonly duration: TalliedHistogram;
  private readonly publishDuration: TalliedHistogram;
  private readonly batchSize: TalliedHistogram;
  private readonly connected: PromClient.Gauge<'connection' | 'transport'>;
  private readonly depth?: PromClient.Gauge<'connection' | 'transport' | 'queue'>;
  private readonly depthSources: Array<{ labels: Record<'connection' | 'transport', string>; read: () => Promise<QueueDepth[]> }> = [];
  private readonly subscriptions: Subscription[] = [];
  private readonly detachers: Array<() => void> = [];
  private readonly finalFlushes: Array<() => void> = [];
  /** Per connection, queue -> pattern -> tally: no key string is built per message. */
  private readonly deliveries: Array<Map<string, Map<string, DeliveryTally>>> = [];
  /** Per connection, topic -> tally. */
  private readonly publishes: Array<Map<string, PublishTally>> = [];

  /** `promClient` is the loaded prom-client module (typed loosely so that these declarations never need prom-client). */
  constructor(promClient: object, registry: MetricsRegistry | undefined, sources: MetricsSources) {
    const prom = promClient as typeof PromClient;
    this.registry = registry ?? prom.register;
    const reg = this.registry as unknown as PromClient.Registry;
    const labelNames = ['connection', 'transport', 'queue', 'topic'] as const;
    this.counted(
      metric(reg, prom.Counter, {
        name: 'messaging_messages_received_total',
        help: 'Messages delivered to a handler (every attempt counts)',
        labelNames,
      }),
      (counter) => {
        for (const t of this.deliveryTallies()) if (t.received > 0) counter.inc(t.labels, take(t, 'received'));
      },
    );
    this.counted(
      metric(reg, prom.Counter, {
        name: 'messaging_messages_handled_total',
        help: 'Deliveries by outcome: success (acked), retry (comes back), dead_letter (moved to the DLQ)',
        labelNames: [...labelNames, 'outcome'],
      }),
      (counter) => {
        for (const t of this.deliveryTallies()) {
          if (t.success > 0) counter.inc({ ...t.labels, outcome: 'success' }, take(t, 'success'));
          if (t.retry > 0) counter.inc({ ...t.labels, outcome: 'retry' }, take(t, 'retry'));
          if (t.deadLetter > 0) counter.inc({ ...t.labels, outcome: 'dead_letter' }, take(t, 'deadLetter'));
        }
      },
    );
    this.counted(
      metric(reg, prom.Gauge, {
        name: 'messaging_handlers_in_flight',
        help: 'Deliveries being handled right now',
        labelNames,
      }),
      (gauge) => {
        for (const t of this.deliveryTallies()) gauge.set(t.labels, t.inFlight);
      },
    );
    this.counted(
      metric(reg, prom.Counter, {
        name: 'messaging_messages_published_total',
        help: 'Emits by outcome: success, failure, unknown (no answer from the broker)',
        labelNames: ['connection', 'transport', 'topic', 'outcome'],
      }),
      (counter) => {
        for (const t of this.publishTallies())
          for (const outcome of ['success', 'failure', 'unknown'] as const)
            if (t[outcome] > 0) counter.inc({ ...t.labels, outcome }, take(t, outcome));
      },
    );
    if (sources.queueDepths) {
      const depth = metric(reg, prom.Gauge, {
        name: 'messaging_queue_depth',
        help: 'Messages ready in the queue (SQS: ApproximateNumberOfMessages), read from the broker when scraped',
        labelNames: ['connection', 'transport', 'queue'],
      });
      this.depth = depth;
      this.detachers.push(
        collectInto(depth, async (gauge) => {
          for (const { labels, read } of this.depthSources) {
            for (const d of await read()) {
              gauge.set({ ...labels, queue: d.queue }, d.messages);
              if (d.deadLetterQueue !== undefined && d.deadLetterMessages !== undefined)
                gauge.set({ ...labels, queue: d.deadLetterQueue }, d.deadLetterMessages);
            }
          }
        }),
      );
    }
    this.duration = histogram(
      reg,
      'messaging_handler_duration_seconds',
      'Time from receipt to outcome (decode and handler), in seconds',
      labelNames,
    );
    this.publishDuration = histogram(
      reg,
      'messaging_publish_duration_seconds',
      'Time from emit to the broker accepting (or refusing) the message, in seconds',
      ['connection', 'transport', 'topic'],
    );
    this.batchSize = histogram(
      reg,
      'messaging_batch_size',
      'Messages per call of a batch handler (batch extra)',
      labelNames,
      BATCH_SIZE_BUCKETS,
    );
    this.connected = metric(reg, prom.Gauge, {
      name: 'messaging_broker_connected',
      help: '1 while the broker connection is up, else 0',
      labelNames: ['connection', 'transport'],
    });
    this.attach(sources);
  }

  /**
   * Counts one more connection's deliveries, emits and status under its `connection` label (a named connection's,
   * attached by the default MessagingModule once the app's modules exist); its queue depths only when the default
   * connection's metrics read depths too.
   */
  attach(sources: MetricsSources): void {
    const labels = { connection: sources.connection, transport: sources.transport };
    const deliveries = new Map<string, Map<string, DeliveryTally>>();
    const publishes = new Map<string, PublishTally>();
    this.deliveries.push(deliveries);
    this.publishes.push(publishes);
    this.detachers.push(
      sources.deliveries.addDeliveryListener({
        received: (queue, pattern) => this.onReceived(deliveries, labels, queue, pattern),
        settled: (queue, pattern, action, durationMs) => this.onSettled(deliveries, labels, queue, pattern, action, durationMs),
        batch: (queue, pattern, size) => {
          const t = this.tallyOf(deliveries, labels, queue, pattern);
          (t.batchSize ??= this.batchSize.tally(t.labels)).observe(size);
        },
      }),
      sources.publishes.addPublishListener({
        published: (topic, outcome, durationMs) => this.onPublished(publishes, labels, topic, outcome, durationMs),
      }),
    );
    this.subscriptions.push(sources.status$.subscribe((status) => this.connected.set(labels, status === 'connected' ? 1 : 0)));
    if (this.depth && sources.queueDepths) this.depthSources.push({ labels, read: sources.queueDepths });
  }

  /** Hands what was counted since the last scrape to prom-client, then leaves the registry's metrics for good. */
  onModuleDestroy(): void {
    for (const s of this.subscriptions) s.unsubscribe();
    this.subscriptions.length = 0;
    for (const flush of this.finalFlushes) flush();
    for (const detach of this.detachers) detach();
    this.finalFlushes.length = 0;
    this.detachers.length = 0;
  }

  /** A metric whose values this instance counts itself: handed over on every scrape and once when it leaves. */
  private counted<M extends object>(target: M, flush: (metric: M) => void): void {
    this.detachers.push(collectInto(target, flush));
    this.finalFlushes.push(() => flush(target));
  }

  private onReceived(tallies: DeliveryTallies, labels: ConnectionLabels, queue: string, pattern: string | undefined): void {
    const t = this.tallyOf(tallies, labels, queue, pattern);
    t.received++;
    t.inFlight++;
  }

  private onSettled(
    tallies: DeliveryTallies,
    labels: ConnectionLabels,
    queue: string,
    pattern: string | undefined,
    action: SettledAction,
    durationMs: number,
  ): void {
    const t = this.tallyOf(tallies, labels, queue, pattern);
    if (action === 'ack') t.success++;
    else if (action === 'retry') t.retry++;
    else t.deadLetter++;
    t.inFlight--;
    t.duration.observe(durationMs / 1000);
  }

  private onPublished(
    tallies: Map<string, PublishTally>,
    connection: ConnectionLabels,
    topic: string,
    outcome: PublishEvent['outcome'],
    durationMs: number,
  ): void {
    let t = tallies.get(topic);
    if (!t) {
      const labels = { ...connection, topic };
      t = { labels, success: 0, failure: 0, unknown: 0, duration: this.publishDuration.tally(labels) };
      tallies.set(topic, t);
    }
    t[outcome]++;
    t.duration.observe(durationMs / 1000);
  }

  private *deliveryTallies(): Iterable<DeliveryTally> {
    for (const tallies of this.deliveries) for (const byPattern of tallies.values()) yield* byPattern.values();
  }

  private *publishTallies(): Iterable<PublishTally> {
    for (const tallies of this.publishes) yield* tallies.values();
  }

  private tallyOf(tallies: DeliveryTallies, connection: ConnectionLabels, queue: string, pattern: string | undefined): DeliveryTally {
    const topic = pattern ?? UNMATCHED_TOPIC;
    let byPattern = tallies.get(queue);
    if (!byPattern) tallies.set(queue, (byPattern = new Map()));
    let t = byPattern.get(topic);
    if (!t) {
      const labels = { ...connection, queue, topic };
      t = { labels, received: 0, success: 0, retry: 0, deadLetter: 0, inFlight: 0, duration: this.duration.tally(labels) };
      byPattern.set(topic, t);
    }
    return t;
  }
}

/** The count since the last scrape, zeroed. */
function take<T, K extends keyof T>(tally: T, key: K): T[K] {
  const value = tally[key];
  (tally[key] as number) = 0;
  return value;
}

/** The registry's metric of that name when it has one of this type, else a new one registered there. */
function metric<M, C>(registry: PromClient.Registry, type: new (config: C) => M, config: C & { name: string }): M {
  const existing = registry.getSingleMetric(config.name);
  if (existing instanceof type) return existing;
  return new type({ ...config, registers: [registry] });
}

/** The registry's histogram of that name when it is one of ours, else a new one registered there. */
function histogram(
  registry: PromClient.Registry,
  name: string,
  help: string,
  labelNames: readonly string[],
  buckets?: readonly number[],
): TalliedHistogram {
  const existing: unknown = registry.getSingleMetric(name);
  if (existing instanceof TalliedHistogram) return existing;
  const created = new TalliedHistogram(name, help, labelNames, buckets);
  registry.registerMetric(created as unknown as PromClient.Metric);
  return created;
}
