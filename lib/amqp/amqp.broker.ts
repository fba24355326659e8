import type { LoggerService } from '@nestjs/common';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type {
  Broker,
  BrokerHealth,
  BrokerStatus,
  DeadLetterDepth,
  QueueDepth,
  DeliveryHandler,
  OutboundMessage,
  QueueMessage,
  QueuePlan,
  RejectionListener,
} from '../transport/broker.js';
import { MessagingError } from '../errors.js';
import { AmqpConnection, type AmqpModel } from './connection.js';
import { AmqpConsumer } from './consumer.js';
import { CLOSE_GRACE_MS, awaitUntil } from './deadline.js';
import { routingKeyOf } from './naming.js';
import { AmqpPublisher } from './publisher.js';
import { provisioningError } from './provisioning-error.js';
import { checkQueueTypeSupport } from './queue-type-support.js';
import { declareTopology, topologyLines } from './declare.js';
import { verifyTopology } from './verify-declared.js';
import { withFilterPolicies } from './filtered-handler.js';
import { withQueueOnlyTopic } from './queue-only-handler.js';
import { AmqpQueueSender } from './queue-sender.js';
import { refusedExchange, validatePlans } from './rabbitmq-limits.js';
import type { Observable } from 'rxjs';

/**
 * AMQP 0-9-1 (RabbitMQ) transport: topic exchanges, durable queues with a TTL retry queue and a dead-letter queue,
 * a confirm channel for publishing, and one connection that reconnects and restores topology and consumers.
 */
export class AmqpBroker implements Broker {
  readonly status$: Observable<BrokerStatus>;
  private readonly connection: AmqpConnection;
  private readonly publisher: AmqpPublisher;
  private readonly consumer: AmqpConsumer;
  private readonly queueSender: AmqpQueueSender;
  private readonly provisioned = new Map<string, QueuePlan>();
  /** Set by stopConsuming: the drain deadline plus the grace for closing channels and the connection. */
  private closeBy?: number;

  constructor(
    private readonly options: ResolvedMessagingOptions,
    private readonly logger: LoggerService,
  ) {
    this.connection = new AmqpConnection(options.amqp, logger, `${options.serviceName} (nestjs-messaging)`);
    this.status$ = this.connection.status$.asObservable();
    this.publisher = new AmqpPublisher(this.connection, options.amqp.publishTimeout, logger);
    this.consumer = new AmqpConsumer(this.connection, this.publisher, options, logger);
    this.queueSender = new AmqpQueueSender(this.connection, this.publisher, options.queueNamePrefix, options.amqp.connectTimeout);
    // after every (re)connect: topology first, then the consumers
    this.connection.onConnect((model) => this.redeclare(model));
    this.connection.onConnect((model) => this.consumer.attachAll(model));
    // on close: consumer channels, then the publisher channel, then (in AmqpConnection) the connection
    this.connection.onClose((deadline) => this.consumer.closeChannels(deadline));
    this.connection.onClose((deadline) => this.publisher.close(deadline));
  }

  validate(queues: readonly QueuePlan[]): void {
    validatePlans(queues, this.options);
  }

  async provision(queues: readonly QueuePlan[]): Promise<void> {
    try {
      const model = await this.connection.get(this.options.amqp.connectTimeout);
      await this.declare(model, queues);
      const done = { create: 'declared', verify: 'verified', off: 'checked' }[this.options.provisioning];
      for (const line of topologyLines(queues, this.options, done)) this.logger.log(line);
    } catch (error) {
      await this.afterFailedStart();
      throw error;
    }
    for (const plan of queues) this.provisioned.set(plan.name, plan);
  }

  async consume(queue: QueuePlan, handler: DeliveryHandler, onRejected?: RejectionListener): Promise<void> {
    try {
      const routed = queue.existingQueue !== undefined ? withQueueOnlyTopic(queue, handler) : handler;
      await this.consumer.consume(queue, withFilterPolicies(queue, routed, this.logger), onRejected);
    } catch (error) {
      await this.afterFailedStart();
      throw error;
    }
  }

  async stopConsuming(drainTimeoutMs: number): Promise<void> {
    const drainEnd = Date.now() + drainTimeoutMs;
    this.closeBy = drainEnd + CLOSE_GRACE_MS;
    await this.consumer.stop(drainEnd, this.closeBy);
    await awaitUntil(this.consumer.deleteNonCompetingQueues(), this.closeBy);
  }

  /** To amqp.exchange, or to the MessagingRecord's own `exchange`. */
  publish(message: OutboundMessage): Promise<void> {
    let exchange = this.options.amqp.exchange;
    if (message.exchange !== undefined) {
      const refused = refusedExchange(message.exchange, message.topic);
      if (refused) return Promise.reject(refused);
      exchange = message.exchange;
    }
    return this.publisher.publish(
      exchange,
      this.routingKey(message.topic),
      message.body,
      message.attributes,
      message.topic,
      undefined,
      message.messageId,
    );
  }

  sendToQueue(message: QueueMessage): Promise<void> {
    return this.queueSender.send(message);
  }

  /** topicPrefix + topic, encoded (routingKeyOf), kept per topic (a handful per process) instead of a new string per message. */
  private readonly routingKeys = new Map<string, string>();

  private routingKey(topic: string): string {
    let key = this.routingKeys.get(topic);
    if (key === undefined) {
      key = routingKeyOf(this.options.topicPrefix, topic);
      if (this.routingKeys.size < 1000) this.routingKeys.set(topic, key);
    }
    return key;
  }

  /** Done by the drain deadline (plus a second for the channels) when stopConsuming ran, else within drainTimeout. */
  close(): Promise<void> {
    return this.connection.close(this.closeBy ?? Date.now() + this.options.drainTimeout + CLOSE_GRACE_MS);
  }

  /** The current amqplib connection (ChannelModel); a new object after each reconnect. */
  unwrap(): AmqpModel | undefined {
    return this.connection.current;
  }

  health(): BrokerHealth {
    const connected = this.connection.current !== undefined;
    const failure = this.connection.lastFailure;
    return {
      connected,
      ...(connected
        ? {}
        : { problem: `AMQP connection to ${this.connection.safeUrl} is down${failure ? ` (${failure})` : ''}; reconnecting` }),
      consumers: this.consumer.attachments(),
    };
  }

  /** One passive queue check per dead-letter queue, each on a throwaway channel (a missing queue closes it). */
  async deadLetterDepths(): Promise<DeadLetterDepth[]> {
    const depths: DeadLetterDepth[] = [];
    for (const plan of this.provisioned.values()) {
      if (plan.deadLetter)
        depths.push({ queue: plan.name, deadLetterQueue: plan.deadLetter.name, messages: await this.messagesIn(plan.deadLetter.name) });
    }
    return depths;
  }

  async queueDepths(): Promise<QueueDepth[]> {
    const depths: QueueDepth[] = [];
    for (const plan of this.provisioned.values()) {
      const messages = await this.messagesIn(plan.name);
      depths.push(
        plan.deadLetter
          ? {
              queue: plan.name,
              messages,
              deadLetterQueue: plan.deadLetter.name,
              deadLetterMessages: await this.messagesIn(plan.deadLetter.name),
            }
          : { queue: plan.name, messages },
      );
    }
    return depths;
  }

  /** A passive declare on a throwaway channel (a missing queue closes it), within connectTimeout. */
  private async messagesIn(queue: string): Promise<number> {
    const timeoutMs = this.options.amqp.connectTimeout;
    const deadline = Date.now() + timeoutMs;
    const model = await this.connection.get(timeoutMs);
    const channel = await model.createChannel();
    channel.on('error', () => undefined);
    try {
      const checked = await awaitUntil(channel.checkQueue(queue), deadline);
      if (!checked.done || !checked.value)
        throw new MessagingError(`could not read the depth of AMQP queue '${queue}' within ${timeoutMs} ms (it may not exist)`);
      return checked.value.messageCount;
    } finally {
      await awaitUntil(
        channel.close().catch(() => undefined),
        Date.now() + CLOSE_GRACE_MS,
      );
    }
  }

  /** A startup that failed leaves no consumer, timer or socket behind, so that the process can exit. */
  private async afterFailedStart(): Promise<void> {
    await this.consumer.stop(Date.now(), Date.now() + CLOSE_GRACE_MS);
    this.consumer.forget();
    await this.connection.release();
  }

  /** After a reconnect: 'create' declares again; 'verify' and 'off' checked at startup and declare nothing. */
  private async redeclare(model: AmqpModel): Promise<string | undefined> {
    if (this.options.provisioning !== 'create' || this.provisioned.size === 0) return undefined;
    await this.declare(model, [...this.provisioned.values()]);
    return `${this.provisioned.size} queue(s) re-declared`;
  }

  /**
   * provisioning 'create': declare everything (idempotent); 'verify': passive checks of exchanges and queues; 'off':
   * passive checks of the queues (each queue, its -retry and -dlq), which retries and dead letters are published to.
   */
  private async declare(model: AmqpModel, plans: readonly QueuePlan[]): Promise<void> {
    if (plans.length > 0) checkQueueTypeSupport(model, this.options, this.connection.safeUrl);
    if (this.options.provisioning !== 'create') {
      try {
        await verifyTopology(model, plans, this.options, this.connection.safeUrl, this.options.provisioning);
      } catch (error) {
        this.logger.error((error as Error).message);
        throw error;
      }
      return;
    }
    const channel = await model.createChannel();
    let channelError: Error | undefined;
    channel.on('error', (error: Error) => {
      channelError = error;
    });
    try {
      await declareTopology(channel, plans, this.options);
    } catch (error) {
      const failure = provisioningError(this.connection.safeUrl, error, channelError);
      this.logger.error(failure.message);
      throw failure;
    } finally {
      await awaitUntil(channel.close(), Date.now() + CLOSE_GRACE_MS);
    }
  }
}
