import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { filter, Subscription, type Observable } from 'rxjs';
import { describeError } from '../error-text.js';
import type { MessageDeadLetteredEvent, MessagingEvent } from '../observability/messaging-event.js';
import { MessagingClient } from '../client/messaging.client.js';
import type { DeliveryListener, SettledAction } from '../observability/delivery-observers.js';
import type { PublishListener } from '../observability/publish-event.js';
import { DEFAULT_CONNECTION } from '../options/connection-names.js';
import { MessagingServer } from '../server/messaging.server.js';
import type { AdminEvent, BrokerOverview, MessageRates } from '../transport/admin.types.js';
import type { AdminConnection } from './admin-connection.js';
import { DEFAULT_MONITOR_INTERVAL_MS, type MessagingAdminRuntimeOptions } from './admin-module.options.js';
import { ADMIN_RUNTIME_OPTIONS } from './admin.tokens.js';
import { MessagingAdminService } from './messaging-admin.service.js';
import { QueueOverviewService } from './queue-overview.js';

/** What one connection's monitor reads of the app: its deliveries, its client's publishes and its dead letters. */
interface ConnectionHooks {
  addDeliveryListener: (listener: DeliveryListener) => () => void;
  /** Absent for a connection whose client is not known (only the default's and each named module's are). */
  addPublishListener?: (listener: PublishListener) => () => void;
  events$: Observable<MessagingEvent>;
}

/**
 * Feeds events$ with what happens in the app rather than through the service, for each connection and labelled
 * with it: `consumer.connected` / `consumer.disconnected` (the broker's consumer health, looked at every interval and
 * on each connection status change), `broker.state` when the broker becomes reachable or not, and, only while the
 * connection's events are observed (events$, or its own event stream), `queue.depth` per dashboard queue and
 * `message.rates` every interval and `message.dead-lettered` from the server's events (which it builds only while
 * someone subscribes). The rates come from a delivery and a publish listener, the hooks the metrics use, added only
 * while observed: nobody watching, no work per message.
 */
@Injectable()
export class AdminMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private monitors: ConnectionMonitor[] = [];

  constructor(
    @Inject(ADMIN_RUNTIME_OPTIONS) private readonly options: MessagingAdminRuntimeOptions,
    private readonly admin: MessagingAdminService,
    private readonly overview: QueueOverviewService,
    private readonly server: MessagingServer,
    private readonly client: MessagingClient,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.monitor === false) return;
    const intervalMs = this.options.monitor?.intervalMs ?? DEFAULT_MONITOR_INTERVAL_MS;
    this.monitors = this.admin.connections().map((connection) => {
      const publishes = connection.name === DEFAULT_CONNECTION ? this.client : connection.publishes;
      const hooks: ConnectionHooks = {
        addDeliveryListener: (listener) => this.server.addDeliveryListener(listener, connection.name),
        addPublishListener: publishes && ((listener) => publishes.addPublishListener(listener)),
        events$: this.server.eventsOf(connection.name),
      };
      return new ConnectionMonitor(connection, intervalMs, this.admin, this.overview, hooks);
    });
    for (const monitor of this.monitors) monitor.start();
  }

  onApplicationShutdown(): void {
    for (const monitor of this.monitors) monitor.stop();
  }
}

/** The monitor of one connection (see AdminMonitor). */
class ConnectionMonitor {
  private readonly logger = new Logger('MessagingAdmin');
  private readonly subscriptions = new Subscription();
  private deadLetters?: Subscription;
  private timer?: NodeJS.Timeout;
  private attached?: Map<string, boolean>;
  private brokerState?: BrokerOverview;
  private observed = false;
  private counting?: { since: number; counts: Omit<MessageRates, 'seconds'>; stop: () => void };
  private stopped = false;

  constructor(
    private readonly connection: AdminConnection,
    private readonly intervalMs: number,
    private readonly admin: MessagingAdminService,
    private readonly overview: QueueOverviewService,
    private readonly hooks: ConnectionHooks,
  ) {}

  start(): void {
    this.subscriptions.add(
      this.connection.broker.status$.subscribe(() => {
        this.checkConsumers();
        this.checkBroker(this.overview.brokerState(this.connection));
      }),
    );
    this.subscriptions.add(
      this.admin.observedFor(this.connection.name).subscribe((observed) => {
        this.observed = observed;
        this.followDeadLetters(observed);
        this.countMessages(observed);
        if (observed) this.schedule(0); // a new dashboard gets depths at once
      }),
    );
    this.schedule(this.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.deadLetters?.unsubscribe();
    this.counting?.stop();
    this.subscriptions.unsubscribe();
  }

  private report(type: AdminEvent['type'], kind: AdminEvent['kind'], resource: string, detail?: Record<string, unknown>): void {
    this.admin.report(type, kind, resource, detail, this.connection.name);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.look(), delayMs);
    this.timer.unref(); // a look never keeps the process alive
  }

  private async look(): Promise<void> {
    this.timer = undefined;
    this.checkConsumers();
    if (this.observed) {
      this.reportRates();
      try {
        const { queues, broker } = await this.overview.overview(this.connection.name);
        if (!this.stopped) {
          this.checkBroker(broker);
          for (const queue of queues) this.report('queue.depth', 'queue', queue.name, { ...queue });
        }
      } catch (error) {
        this.logger.warn(`Could not read queue depths${this.connection.where}: ${describeError(error)}`);
      }
    } else this.checkBroker(this.overview.brokerState(this.connection));
    // a look scheduled meanwhile (a new observer) stands
    if (this.timer === undefined) this.schedule(this.intervalMs);
  }

  /** Reports attach / detach changes; the first look only learns the state. */
  private checkConsumers(): void {
    if (this.stopped) return;
    const now = new Map((this.connection.broker.health?.().consumers ?? []).map((c) => [c.queue, c.attached]));
    const before = this.attached;
    this.attached = now;
    if (!before) return;
    for (const [queue, attached] of now)
      if (attached !== (before.get(queue) ?? false)) this.report(attached ? 'consumer.connected' : 'consumer.disconnected', 'queue', queue);
    for (const [queue, attached] of before) if (attached && !now.has(queue)) this.report('consumer.disconnected', 'queue', queue);
  }

  /** Reports a change of the broker's state; the first look only learns it. */
  private checkBroker(now: BrokerOverview): void {
    if (this.stopped) return;
    const before = this.brokerState;
    this.brokerState = now;
    if (before && before.state !== now.state) this.report('broker.state', 'queue', 'broker', { ...now });
  }

  private countMessages(observed: boolean): void {
    if (!observed) {
      this.counting?.stop();
      this.counting = undefined;
      return;
    }
    if (this.counting) return;
    const counts = { published: 0, handled: 0, failed: 0, deadLettered: 0 };
    const settledAs: Record<SettledAction, keyof typeof counts> = { ack: 'handled', retry: 'failed', 'dead-letter': 'deadLettered' };
    const stopDeliveries = this.hooks.addDeliveryListener({
      received: () => undefined,
      settled: (_queue, _pattern, action) => (counts[settledAs[action]] += 1),
    });
    const stopPublishes = this.hooks.addPublishListener?.({
      published: (_topic, outcome) => {
        if (outcome === 'success') counts.published += 1;
      },
    });
    this.counting = {
      since: performance.now(),
      counts,
      stop: () => {
        stopDeliveries();
        stopPublishes?.();
      },
    };
  }

  private reportRates(): void {
    const counting = this.counting;
    if (!counting) return;
    const now = performance.now();
    const rates: MessageRates = { seconds: (now - counting.since) / 1000, ...counting.counts };
    counting.since = now;
    for (const key of Object.keys(counting.counts) as Array<keyof typeof counting.counts>) counting.counts[key] = 0;
    // an interval without a message is not reported: the dashboard reads the gap as zero
    if (rates.published + rates.handled + rates.failed + rates.deadLettered > 0)
      this.report('message.rates', 'message', 'app', { ...rates });
  }

  private followDeadLetters(observed: boolean): void {
    if (!observed) {
      this.deadLetters?.unsubscribe();
      this.deadLetters = undefined;
      return;
    }
    this.deadLetters ??= this.hooks.events$
      .pipe(filter((e): e is MessageDeadLetteredEvent => e.type === 'dead-lettered'))
      .subscribe(({ queue, topic, messageId, attempt, reason }) =>
        this.report('message.dead-lettered', 'message', queue, { topic, messageId, attempt, reason }),
      );
  }
}
