import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { filter, Subscription } from 'rxjs';
import { MESSAGING_BROKER } from '../constants.js';
import { describeError } from '../error-text.js';
import type { MessageDeadLetteredEvent } from '../observability/messaging-event.js';
import { MessagingClient } from '../client/messaging.client.js';
import type { SettledAction } from '../observability/delivery-observers.js';
import { MessagingServer } from '../server/messaging.server.js';
import type { Broker } from '../transport/broker.js';
import type { BrokerOverview, MessageRates } from '../transport/admin.types.js';
import { DEFAULT_MONITOR_INTERVAL_MS, type MessagingAdminRuntimeOptions } from './admin-module.options.js';
import { ADMIN_RUNTIME_OPTIONS } from './admin.tokens.js';
import { MessagingAdminService } from './messaging-admin.service.js';
import { QueueOverviewService } from './queue-overview.js';

/**
 * Feeds events$ with what happens in the app rather than through the service: `consumer.connected` /
 * `consumer.disconnected` (the broker's consumer health, looked at every interval and on each connection status
 * change), `broker.state` when the broker becomes reachable or not, and, only while events$ is observed,
 * `queue.depth` per dashboard queue and `message.rates` every interval and `message.dead-lettered` from the server's
 * events$ (which builds events only while someone subscribes). The rates come from a delivery and a publish listener,
 * the hooks the metrics use, added only while observed: nobody watching, no work per message.
 */
@Injectable()
export class AdminMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
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
    @Inject(ADMIN_RUNTIME_OPTIONS) private readonly options: MessagingAdminRuntimeOptions,
    private readonly admin: MessagingAdminService,
    private readonly overview: QueueOverviewService,
    @Inject(MESSAGING_BROKER) private readonly broker: Broker,
    @Optional() private readonly server?: MessagingServer,
    @Optional() private readonly client?: MessagingClient,
  ) {}

  private get intervalMs(): number {
    return (this.options.monitor || {}).intervalMs ?? DEFAULT_MONITOR_INTERVAL_MS;
  }

  onApplicationBootstrap(): void {
    if (this.options.monitor === false) return;
    this.subscriptions.add(
      this.broker.status$.subscribe(() => {
        this.checkConsumers();
        this.checkBroker(this.overview.brokerState());
      }),
    );
    this.subscriptions.add(
      this.admin.observed$.subscribe((observed) => {
        this.observed = observed;
        this.followDeadLetters(observed);
        this.countMessages(observed);
        if (observed) this.schedule(0); // a new dashboard gets depths at once
      }),
    );
    this.schedule(this.intervalMs);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.deadLetters?.unsubscribe();
    this.counting?.stop();
    this.subscriptions.unsubscribe();
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
        const { queues, broker } = await this.overview.overview();
        if (!this.stopped) {
          this.checkBroker(broker);
          for (const queue of queues) this.admin.report('queue.depth', 'queue', queue.name, { ...queue });
        }
      } catch (error) {
        this.logger.warn(`Could not read queue depths: ${describeError(error)}`);
      }
    } else this.checkBroker(this.overview.brokerState());
    // a look scheduled meanwhile (a new observer) stands
    if (this.timer === undefined) this.schedule(this.intervalMs);
  }

  /** Reports attach / detach changes; the first look only learns the state. */
  private checkConsumers(): void {
    if (this.stopped) return;
    const now = new Map((this.broker.health?.().consumers ?? []).map((c) => [c.queue, c.attached]));
    const before = this.attached;
    this.attached = now;
    if (!before) return;
    for (const [queue, attached] of now)
      if (attached !== (before.get(queue) ?? false))
        this.admin.report(attached ? 'consumer.connected' : 'consumer.disconnected', 'queue', queue);
    for (const [queue, attached] of before) if (attached && !now.has(queue)) this.admin.report('consumer.disconnected', 'queue', queue);
  }

  /** Reports a change of the broker's state; the first look only learns it. */
  private checkBroker(now: BrokerOverview): void {
    if (this.stopped) return;
    const before = this.brokerState;
    this.brokerState = now;
    if (before && before.state !== now.state) this.admin.report('broker.state', 'queue', 'broker', { ...now });
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
    const stopDeliveries = this.server?.addDeliveryListener({
      received: () => undefined,
      settled: (_queue, _pattern, action) => (counts[settledAs[action]] += 1),
    });
    const stopPublishes = this.client?.addPublishListener({
      published: (_topic, outcome) => {
        if (outcome === 'success') counts.published += 1;
      },
    });
    this.counting = {
      since: performance.now(),
      counts,
      stop: () => {
        stopDeliveries?.();
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
      this.admin.report('message.rates', 'message', 'app', { ...rates });
  }

  private followDeadLetters(observed: boolean): void {
    if (!observed || !this.server) {
      this.deadLetters?.unsubscribe();
      this.deadLetters = undefined;
      return;
    }
    this.deadLetters ??= this.server.events$
      .pipe(filter((e): e is MessageDeadLetteredEvent => e.type === 'dead-lettered'))
      .subscribe(({ queue, topic, messageId, attempt, reason }) =>
        this.admin.report('message.dead-lettered', 'message', queue, { topic, messageId, attempt, reason }),
      );
  }
}
