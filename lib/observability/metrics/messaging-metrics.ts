import type { OnModuleDestroy } from '@nestjs/common';
import type * as PromClient from 'prom-client';
import type { Observable, Subscription } from 'rxjs';
import type { MetricsRegistry, TransportName } from '../../messaging.options.js';
import type { BrokerStatus } from '../../transport/broker.js';
import type { MessageEventBase, MessagingEvent } from '../messaging-event.js';
import type { PublishEvent } from '../publish-event.js';

/** The `topic` label of a delivery no handler matched: its real topic could be anything. */
export const UNMATCHED_TOPIC = '(no handler)';

type Labels = 'transport' | 'queue' | 'topic';

export interface MetricsSources {
  transport: TransportName;
  events$: Observable<MessagingEvent>;
  published$: Observable<PublishEvent>;
  status$: Observable<BrokerStatus>;
}

/**
 * The Prometheus metrics of one MessagingModule, fed by MessagingServer.events$, MessagingClient.published$ and the
 * broker status. Created by MessagingModule with `metrics: true | { registry }` (prom-client is loaded then, not
 * before); on a registry that already holds them (a second app in the process) the existing metrics are reused.
 */
export class MessagingMetrics implements OnModuleDestroy {
  readonly registry: MetricsRegistry;
  private readonly received: PromClient.Counter<Labels>;
  private readonly handled: PromClient.Counter<Labels | 'outcome'>;
  private readonly duration: PromClient.Histogram<Labels>;
  private readonly inFlight: PromClient.Gauge<Labels>;
  private readonly published: PromClient.Counter<'transport' | 'topic' | 'outcome'>;
  private readonly publishDuration: PromClient.Histogram<'transport' | 'topic'>;
  private readonly connected: PromClient.Gauge<'transport'>;
  private readonly subscriptions: Subscription[] = [];
  private readonly children = new Map<string, DeliveryChildren>();

  /** `promClient` is the loaded prom-client module (typed loosely so that these declarations never need prom-client). */
  constructor(promClient: object, registry: MetricsRegistry | undefined, sources: MetricsSources) {
    const prom = promClient as typeof PromClient;
    this.registry = registry ?? prom.register;
    const reg = this.registry as unknown as PromClient.Registry;
    const labelNames = ['transport', 'queue', 'topic'] as const;
    this.received = metric(reg, prom.Counter, {
      name: 'messaging_messages_received_total',
      help: 'Messages delivered to a handler (every attempt counts)',
      labelNames,
    });
    this.handled = metric(reg, prom.Counter, {
      name: 'messaging_messages_handled_total',
      help: 'Deliveries by outcome: success (acked), retry (comes back), dead_letter (moved to the DLQ)',
      labelNames: [...labelNames, 'outcome'],
    });
    this.duration = metric(reg, prom.Histogram, {
      name: 'messaging_handler_duration_seconds',
      help: 'Time from receipt to outcome (decode and handler), in seconds',
      labelNames,
    });
    this.inFlight = metric(reg, prom.Gauge, {
      name: 'messaging_handlers_in_flight',
      help: 'Deliveries being handled right now',
      labelNames,
    });
    this.published = metric(reg, prom.Counter, {
      name: 'messaging_messages_published_total',
      help: 'Emits by outcome: success, failure, unknown (no answer from the broker)',
      labelNames: ['transport', 'topic', 'outcome'],
    });
    this.publishDuration = metric(reg, prom.Histogram, {
      name: 'messaging_publish_duration_seconds',
      help: 'Time from emit to the broker accepting (or refusing) the message, in seconds',
      labelNames: ['transport', 'topic'],
    });
    this.connected = metric(reg, prom.Gauge, {
      name: 'messaging_broker_connected',
      help: '1 while the broker connection is up, else 0',
      labelNames: ['transport'],
    });
    const { transport } = sources;
    this.subscriptions.push(
      sources.events$.subscribe((event) => this.onEvent(event)),
      sources.published$.subscribe((event) => {
        this.published.inc({ transport, topic: event.topic, outcome: event.outcome });
        this.publishDuration.observe({ transport, topic: event.topic }, event.durationMs / 1000);
      }),
      sources.status$.subscribe((status) => this.connected.set({ transport }, status === 'connected' ? 1 : 0)),
    );
  }

  onModuleDestroy(): void {
    for (const s of this.subscriptions) s.unsubscribe();
    this.subscriptions.length = 0;
  }

  private onEvent(event: MessagingEvent): void {
    if (event.type === 'status') return; // the gauge follows the broker's own status$ (also without a server)
    const c = this.childrenOf(event);
    switch (event.type) {
      case 'received':
        c.received.inc();
        c.inFlight.inc();
        return;
      case 'handled':
        c.success.inc();
        break;
      case 'failed':
        if (!event.willRetry) return; // a dead-lettered event follows and settles it
        c.retry.inc();
        break;
      case 'dead-lettered':
        c.deadLetter.inc();
        break;
    }
    c.inFlight.dec();
    c.duration.observe(event.durationMs / 1000);
  }

  /** Label children per queue and topic, created once: the hot path does no label hashing. */
  private childrenOf(event: MessageEventBase): DeliveryChildren {
    const topic = event.pattern ?? UNMATCHED_TOPIC;
    const key = `${event.queue}\u0000${topic}`;
    let c = this.children.get(key);
    if (!c) {
      const labels = { transport: event.transport, queue: event.queue, topic };
      c = {
        received: this.received.labels(labels),
        success: this.handled.labels({ ...labels, outcome: 'success' }),
        retry: this.handled.labels({ ...labels, outcome: 'retry' }),
        deadLetter: this.handled.labels({ ...labels, outcome: 'dead_letter' }),
        duration: this.duration.labels(labels),
        inFlight: this.inFlight.labels(labels),
      };
      this.children.set(key, c);
    }
    return c;
  }
}

interface DeliveryChildren {
  received: PromClient.Counter.Internal;
  success: PromClient.Counter.Internal;
  retry: PromClient.Counter.Internal;
  deadLetter: PromClient.Counter.Internal;
  duration: PromClient.Histogram.Internal<Labels>;
  inFlight: PromClient.Gauge.Internal<Labels>;
}

/** The registry's metric of that name when it has one of this type, else a new one registered there. */
function metric<M, C>(registry: PromClient.Registry, type: new (config: C) => M, config: C & { name: string }): M {
  const existing = registry.getSingleMetric(config.name);
  if (existing instanceof type) return existing;
  return new type({ ...config, registers: [registry] });
}
