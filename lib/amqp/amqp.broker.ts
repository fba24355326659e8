import type { LoggerService } from '@nestjs/common';
import { MessagingOptionsError } from '../errors.js';
import type { ResolvedMessagingOptions } from '../options-validation.js';
import type { Broker, BrokerStatus, DeliveryHandler, OutboundMessage, QueuePlan } from '../transport/broker.js';
import { AmqpConnection, type AmqpModel } from './connection.js';
import { AmqpConsumer } from './consumer.js';
import { AmqpPublisher } from './publisher.js';
import { declareTopology } from './topology.js';
import { withFilterPolicies } from './filtered-handler.js';
import { validatePlans } from './validation.js';
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
  private readonly provisioned = new Map<string, QueuePlan>();

  constructor(
    private readonly options: ResolvedMessagingOptions,
    private readonly logger: LoggerService,
  ) {
    this.connection = new AmqpConnection(options.amqp, logger, `${options.serviceName} (nestjs-messaging)`);
    this.status$ = this.connection.status$.asObservable();
    this.publisher = new AmqpPublisher(this.connection, options.amqp.publishTimeout, logger);
    this.consumer = new AmqpConsumer(this.connection, this.publisher, options, logger);
    // after every (re)connect: topology first, then the consumers
    this.connection.onConnect((model) => this.redeclare(model));
    this.connection.onConnect((model) => this.consumer.attachAll(model));
    // on close: consumer channels, then the publisher channel, then (in AmqpConnection) the connection
    this.connection.onClose(() => this.consumer.closeChannels());
    this.connection.onClose(() => this.publisher.close());
  }

  validate(queues: readonly QueuePlan[]): void {
    validatePlans(queues, this.options);
  }

  async provision(queues: readonly QueuePlan[]): Promise<void> {
    const model = await this.connection.get(Math.max(this.options.amqp.publishTimeout, 1000));
    await this.declare(model, queues);
    for (const plan of queues) this.provisioned.set(plan.name, plan);
  }

  consume(queue: QueuePlan, handler: DeliveryHandler): Promise<void> {
    return this.consumer.consume(queue, withFilterPolicies(queue, handler, this.logger));
  }

  async stopConsuming(drainTimeoutMs: number): Promise<void> {
    await this.consumer.stop(drainTimeoutMs);
    await this.consumer.deleteNonCompetingQueues();
  }

  publish(message: OutboundMessage): Promise<void> {
    return this.publisher.publish(this.options.amqp.exchange, `${this.options.topicPrefix}${message.topic}`, message.body, message.attributes);
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  /** The current amqplib connection (ChannelModel); a new object after each reconnect. */
  unwrap(): AmqpModel | undefined {
    return this.connection.current;
  }

  private async redeclare(model: AmqpModel): Promise<void> {
    if (this.provisioned.size > 0) await this.declare(model, [...this.provisioned.values()]);
  }

  private async declare(model: AmqpModel, plans: readonly QueuePlan[]): Promise<void> {
    const channel = await model.createChannel();
    let channelError: Error | undefined;
    channel.on('error', (error: Error) => { channelError = error; });
    try {
      await declareTopology(channel, plans, this.options);
    } catch (error) {
      const detail = channelError?.message ?? (error instanceof Error ? error.message : String(error));
      this.logger.error(`AMQP topology declaration failed: ${detail}`);
      throw new MessagingOptionsError('amqp topology', `RabbitMQ refused the declaration (${detail}); a queue or exchange may exist with other arguments: delete it or use another name`);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }
}
