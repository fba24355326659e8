import { randomUUID } from 'node:crypto';
import { BehaviorSubject } from 'rxjs';
import { MessagingError, PublishError } from '../errors.js';
import type { MessageEnvelope } from '../envelopes/message-envelope.js';
import type {
  Broker,
  BrokerStatus,
  DeliveryHandler,
  InboundDelivery,
  OutboundMessage,
  QueueMessage,
  QueuePlan,
} from '../transport/broker.js';
import type { BrokerFactory } from '../transport/broker-factory.js';
import { queueOnlyTopic } from '../transport/queue-only-topic.js';
import { parseQueueRef } from '../transport/queue-ref.js';
import { deliverToQueue } from './queue-delivery.js';
import { SubscriptionFilter } from './subscription-filter.js';
import type { EmittedMessage, QueueDeliveryResult } from './types.js';

interface Consumer {
  plan: QueuePlan;
  handler: DeliveryHandler;
  filter: SubscriptionFilter;
}

/**
 * The Broker port in memory: the MessagingServer provisions and consumes through it as through SNS+SQS or AMQP, and
 * MessagingClient publishes to it. Nothing leaves the process; what the app emitted is recorded (decoded through the
 * module's envelope) and messages are delivered on request. Used through MessagingTesting.
 */
export class InMemoryBroker implements Broker {
  readonly status$ = new BehaviorSubject<BrokerStatus>('connected');
  private readonly provisioned = new Map<string, QueuePlan>();
  private readonly consumers = new Map<string, Consumer>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly emittedMessages: EmittedMessage[] = [];
  private readonly queueSends: QueueMessage[] = [];
  private readonly emitListeners = new Set<() => void>();
  private state: 'open' | 'stopped' | 'closed' = 'open';

  /** `timeoutMs`: the default deadline of the kit's waits. */
  constructor(
    /** The connection's envelope: what the app emits is decoded with it, and the kit encodes with it. */
    readonly envelope: MessageEnvelope,
    readonly timeoutMs: number,
  ) {}

  /** Compiles every filter policy, so one the evaluator cannot run fails at startup as on a real broker. */
  validate(queues: readonly QueuePlan[]): void {
    for (const plan of queues) new SubscriptionFilter(plan);
  }

  async provision(queues: readonly QueuePlan[]): Promise<void> {
    for (const plan of queues) this.provisioned.set(plan.name, plan);
  }

  async consume(queue: QueuePlan, handler: DeliveryHandler): Promise<void> {
    this.state = 'open';
    this.consumers.set(queue.name, { plan: queue, handler, filter: new SubscriptionFilter(queue) });
  }

  /** Waits up to `drainTimeoutMs` for deliveries still running, as a real consumer drains. */
  async stopConsuming(drainTimeoutMs: number): Promise<void> {
    if (this.state === 'open') this.state = 'stopped';
    this.consumers.clear();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, drainTimeoutMs);
    });
    await Promise.race([Promise.allSettled([...this.inFlight]), timeout]);
    clearTimeout(timer);
  }

  async publish(message: OutboundMessage): Promise<void> {
    if (this.state === 'closed')
      throw new PublishError(`Cannot publish to topic "${message.topic}": the in-memory broker is closed (the application was closed)`);
    let data: unknown;
    let metadata = {};
    let decodeError: string | undefined;
    try {
      const decoded = await this.envelope.decode(message.body, { topic: message.topic });
      data = decoded.data;
      metadata = decoded.metadata;
    } catch (error) {
      decodeError = error instanceof Error ? error.message : String(error);
    }
    this.emittedMessages.push({
      topic: message.topic,
      data,
      attributes: { ...message.attributes },
      metadata,
      body: message.body,
      ...(message.groupId !== undefined ? { groupId: message.groupId } : {}),
      ...(message.deduplicationId !== undefined ? { deduplicationId: message.deduplicationId } : {}),
      ...(decodeError !== undefined ? { decodeError } : {}),
    });
    for (const listener of this.emitListeners) listener();
  }

  /**
   * Records the send and, when a queue-only consumer (`@EventPattern(topic, { queue })`) listens on that queue, hands
   * it the message in the background, as a real queue would (the send resolves on acceptance, not on handling).
   */
  async sendToQueue(message: QueueMessage): Promise<void> {
    if (this.state === 'closed')
      throw new PublishError(`Cannot send to queue "${message.queue}": the in-memory broker is closed (the application was closed)`);
    this.queueSends.push({ ...message, attributes: { ...message.attributes } });
    const name = parseQueueRef(message.queue).name;
    const consumer = [...this.consumers.values()].find(
      (c) => c.plan.existingQueue !== undefined && (c.plan.existingQueue === message.queue || c.plan.name === name),
    );
    if (!consumer) return;
    const delivery: InboundDelivery = {
      topic: queueOnlyTopic(consumer.plan, undefined, message.body),
      body: message.body,
      attributes: { ...message.attributes },
      messageId: randomUUID(),
      receiveCount: 1,
      ...(message.groupId !== undefined ? { groupId: message.groupId } : {}),
      raw: message,
    };
    const running = deliverToQueue(consumer.plan, consumer.handler, delivery, false);
    this.inFlight.add(running);
    void running.finally(() => this.inFlight.delete(running)).catch(() => undefined);
  }

  /** Every `sendToQueue` the app made, in order. */
  sentToQueues(): readonly QueueMessage[] {
    return this.queueSends;
  }

  async close(): Promise<void> {
    this.state = 'closed';
    this.consumers.clear();
    this.status$.next('disconnected');
  }

  unwrap(): unknown {
    return this;
  }

  /** Queues the server provisioned, by name. */
  queues(): QueuePlan[] {
    return [...this.provisioned.values()];
  }

  /** Whether a consumer is attached (the server is listening and the app not closed). */
  get consuming(): boolean {
    return this.consumers.size > 0;
  }

  get lifecycle(): 'open' | 'stopped' | 'closed' {
    return this.state;
  }

  emitted(): readonly EmittedMessage[] {
    return this.emittedMessages;
  }

  onEmit(listener: () => void): () => void {
    this.emitListeners.add(listener);
    return () => this.emitListeners.delete(listener);
  }

  clearEmitted(): void {
    this.emittedMessages.splice(0);
  }

  /**
   * Hands a message to every queue whose subscriptions take its topic (or to `queue` alone, bypassing
   * subscriptions), in parallel as a fan-out would. A queue whose filter policies all reject it reports `filtered`.
   */
  async deliver(delivery: InboundDelivery, options: { queue?: string; redeliver: boolean }): Promise<QueueDeliveryResult[]> {
    const targets: Array<{ consumer: Consumer; filtered: boolean }> = [];
    if (options.queue !== undefined) {
      const consumer = this.consumers.get(options.queue);
      if (!consumer) {
        throw new MessagingError(`No consumer on queue "${options.queue}"; the app consumes ${this.describeQueues()}`);
      }
      targets.push({ consumer, filtered: false });
    } else {
      for (const consumer of this.consumers.values()) {
        const verdict = consumer.filter.check(delivery);
        if (verdict !== 'not-subscribed') targets.push({ consumer, filtered: verdict === 'filtered' });
      }
    }
    const running = Promise.all(
      targets.map(({ consumer, filtered }): Promise<QueueDeliveryResult> =>
        filtered
          ? Promise.resolve({ queue: consumer.plan.name, outcome: 'filtered', attempts: 0 })
          : deliverToQueue(consumer.plan, consumer.handler, delivery, options.redeliver),
      ),
    );
    this.inFlight.add(running);
    try {
      return await running;
    } finally {
      this.inFlight.delete(running);
    }
  }

  describeQueues(): string {
    const names = [...this.consumers.values()].map((c) => `"${c.plan.name}" (${c.plan.subscriptions.map((s) => s.pattern).join(', ')})`);
    return names.length > 0 ? names.join(', ') : 'no queue';
  }
}

/** Gives each connection (default and named) an in-memory broker of its own, with the connection's envelope. */
export function inMemoryBrokers(timeoutMs: number): BrokerFactory {
  return ({ envelope }) => new InMemoryBroker(envelope, timeoutMs);
}
