import { randomUUID } from 'node:crypto';
import { amqpTransport } from '../definition.js';
import type { ChannelModel, GetMessage } from 'amqplib';
import { decodeContent } from '../content-encoding.js';
import { toHeaders } from '../headers.js';
import { HEADER, isInternalHeader, isReservedName, routingKeyOf, topicOfRoutingKey } from '../naming.js';
import { contentTypeOf } from '../publisher.js';
import { declareTopology } from '../declare.js';
import { SUBSCRIPTION_DEFAULTS, type ResolvedMessagingOptions } from '../../messaging.options.js';
import type { QueuePlan } from '../../transport/broker.js';
import type { AdminBackend, RawPeeked } from '../../transport/admin-backend.js';
import {
  AdminBrokerRefusedError,
  AdminConflictError,
  AdminInvalidArgumentError,
  AdminOperationUnavailableError,
  AdminPeekSpendsReceiveError,
  AdminResourceNotFoundError,
} from '../../transport/admin.errors.js';
import { describeError } from '../../error-text.js';
import { DEAD_LETTER_SUFFIX, deadLetterQueueName, deadLetterSourceName } from '../../naming.js';
import { checkNonEmpty } from '../../transport/admin-names.js';
import { checkAmqpName } from './amqp-names.js';
import type * as Admin from '../../transport/admin.types.js';
import { AmqpChannels } from './amqp-channels.js';
import { RabbitMqManagement } from './rabbitmq-management.js';

/**
 * The admin operations on AMQP (RabbitMQ). A "topic" resource is an exchange (createTopic declares a durable topic
 * exchange); publish and subscribe take the @EventPattern topic, a routing key (topicPrefix added) on the module's
 * exchange. Queues are declared as provisioning declares them: the queue, its `-retry` queue and its `-dlq`.
 * Listing queues and exchanges, and an exchange's bindings, go through the management API (amqp.managementUrl).
 */
export class AmqpAdmin implements AdminBackend {
  private readonly channels: AmqpChannels;
  private readonly management?: RabbitMqManagement;

  constructor(
    private readonly options: ResolvedMessagingOptions,
    shared: () => ChannelModel | undefined,
  ) {
    this.channels = new AmqpChannels(options.amqp.url, shared);
    if (options.amqp.managementUrl) this.management = new RabbitMqManagement(options.amqp.managementUrl, options.amqp.url);
  }

  async listQueues({ prefix = '' }: Admin.ListOptions): Promise<Admin.QueueSummary[]> {
    const queues = await this.requireManagement('listQueues').queues();
    return queues
      .map(({ name }) => ({ name }))
      .filter(({ name }) => name.startsWith(prefix))
      .sort(byName);
  }

  /** Exchanges (the default exchange, which has no name, left out). */
  async listTopics({ prefix = '' }: Admin.ListOptions): Promise<Admin.TopicSummary[]> {
    const exchanges = await this.requireManagement('listTopics').exchanges();
    return exchanges
      .map(({ name }) => ({ name }))
      .filter(({ name }) => name !== '' && name.startsWith(prefix))
      .sort(byName);
  }

  async queueInfo(name: string): Promise<Admin.QueueInfo> {
    checkNonEmpty(name, 'queue name');
    const queue = await this.channels.requireQueue(name);
    const info: Admin.QueueInfo = { transport: 'amqp', name, messages: queue.messageCount, consumers: queue.consumerCount };
    const dlq = await this.deadLetterQueueOf(name);
    if (dlq) {
      info.deadLetterQueue = { name: deadLetterQueueName(name), messages: dlq.messageCount };
      // a consumer counts a redelivered message as one more attempt, and a peek marks it redelivered
      info.maxReceiveCount = this.options.maxReceiveCount;
    }
    return info;
  }

  async createQueue(name: string, options: Admin.CreateQueueOptions): Promise<Admin.CreatedResource> {
    checkAmqpName(name, 'queue name');
    if (options.fifo)
      throw new AdminInvalidArgumentError('fifo', 'FIFO queues are an SNS/SQS feature; AMQP queues keep order without it', true);
    const ownDeadLetterQueue = deadLetterQueueName(name);
    const dlqSetting = options.deadLetterQueue ?? (this.options.deadLetterQueue ? ownDeadLetterQueue : false);
    if (dlqSetting !== false && dlqSetting !== ownDeadLetterQueue)
      throw new AdminInvalidArgumentError(
        'deadLetterQueue',
        `on AMQP a queue's dead-letter queue is "${ownDeadLetterQueue}" (the name consumers and redrive use); pass that or false`,
        dlqSetting,
      );
    const plan: QueuePlan = {
      name,
      competing: true,
      fifo: false,
      visibilityTimeout: options.visibilityTimeout ?? SUBSCRIPTION_DEFAULTS.visibilityTimeout,
      deadLetter: dlqSetting === false ? null : { name: dlqSetting },
      maxReceiveCount: options.maxReceiveCount ?? this.options.maxReceiveCount,
      retryBackoff: this.options.retryBackoff,
      concurrency: amqpTransport.defaultConcurrency(this.options),
      subscriptions: [],
    };
    const existed = (await this.channels.checkQueue(name)) !== undefined;
    if (existed && options.deadLetterQueue !== undefined) {
      const dlq = (await this.deadLetterQueueOf(name)) ? ownDeadLetterQueue : false;
      if (dlq !== dlqSetting)
        throw new AdminConflictError(
          name,
          `its dead-letter queue is ${dlq === false ? 'none' : `"${dlq}"`}, not ${dlqSetting === false ? 'none' : `"${dlqSetting}"`}`,
        );
    }
    await this.channels.with((channel) => declareTopology(channel, [plan], this.options));
    return { name, created: !existed };
  }

  async deleteQueue(name: string): Promise<void> {
    checkNonEmpty(name, 'queue name');
    await this.channels.requireQueue(name);
    await this.channels.with((channel) => channel.deleteQueue(name));
  }

  async topicInfo(exchange: string): Promise<Admin.TopicInfo> {
    checkNonEmpty(exchange, 'exchange');
    await this.channels.requireExchange(exchange);
    if (!this.management) return { transport: 'amqp', name: exchange };
    const bindings = await this.management.bindingsFrom(exchange);
    const subscriptions = bindings
      .filter((b) => b.destination_type === 'queue')
      .map((b) => ({
        id: bindingId({ exchange, routingKey: b.routing_key, queue: b.destination }),
        topic: b.routing_key,
        queue: b.destination,
      }));
    return { transport: 'amqp', name: exchange, subscriptions };
  }

  async createTopic(exchange: string): Promise<Admin.CreatedResource> {
    checkAmqpName(exchange, 'exchange');
    const existed = await this.channels.exchangeExists(exchange);
    await this.channels.with((channel) => channel.assertExchange(exchange, 'topic', { durable: true }));
    return { name: exchange, created: !existed };
  }

  async deleteTopic(exchange: string): Promise<void> {
    checkAmqpName(exchange, 'exchange');
    await this.channels.requireExchange(exchange);
    await this.channels.with((channel) => channel.deleteExchange(exchange));
  }

  async subscribe(topic: string, queue: string, options: Admin.SubscribeOptions): Promise<Admin.SubscriptionInfo> {
    if (options.filterPolicy !== undefined)
      throw new AdminInvalidArgumentError(
        'filterPolicy',
        'on amqp the consuming handler evaluates filter policies (its @EventPattern extras); a binding cannot carry one',
        options.filterPolicy,
      );
    const binding = { exchange: options.exchange ?? this.options.amqp.exchange, routingKey: this.routingKey(topic), queue };
    await this.requireBindingEnds(binding);
    await this.channels.with((channel) => channel.bindQueue(queue, binding.exchange, binding.routingKey));
    return { id: bindingId(binding), topic: binding.routingKey, queue };
  }

  async unsubscribe(id: string): Promise<void> {
    const binding = parseBindingId(id);
    await this.requireBindingEnds(binding);
    await this.channels.with((channel) => channel.unbindQueue(binding.queue, binding.exchange, binding.routingKey));
  }

  async envelopeTopic(topic: string): Promise<string> {
    return topic;
  }

  async publish(topic: string, body: string | Buffer, options: Admin.PublishOptions): Promise<Admin.SentMessage> {
    return this.confirmedPublish(this.options.amqp.exchange, this.routingKey(topic), body, toHeaders(options.attributes ?? {}, topic));
  }

  async sendToQueue(queue: string, topic: string, body: string | Buffer, options: Admin.SendToQueueOptions): Promise<Admin.SentMessage> {
    if (options.delaySeconds !== undefined)
      throw new AdminInvalidArgumentError('delaySeconds', 'delayed sending is an SQS feature', options.delaySeconds);
    await this.channels.requireQueue(queue);
    const headers = { ...toHeaders(options.attributes ?? {}, topic), [HEADER.originalRoutingKey]: this.routingKey(topic) };
    return this.confirmedPublish('', queue, body, headers);
  }

  /**
   * basic.get up to `max` messages, then nack them all with requeue. The broker marks them redelivered, which a
   * consumer counts as one more attempt: refused on a queue with a dead-letter queue unless `spendReceive`.
   */
  async peek(queue: string, max: number, spendReceive: boolean): Promise<RawPeeked[]> {
    await this.channels.requireQueue(queue);
    if (!spendReceive && (await this.deadLetterQueueOf(queue)))
      throw new AdminPeekSpendsReceiveError(queue, this.options.maxReceiveCount, deadLetterQueueName(queue));
    return this.channels.with(async (channel) => {
      const held: GetMessage[] = [];
      try {
        while (held.length < max) {
          const message = await channel.get(queue, { noAck: false });
          if (message === false) break;
          held.push(message);
        }
      } finally {
        if (held.length > 0) channel.nackAll(true);
      }
      return held.map((m) => this.describe(m));
    });
  }

  async purge(queue: string): Promise<void> {
    await this.channels.requireQueue(queue);
    await this.channels.with((channel) => channel.purgeQueue(queue));
  }

  /**
   * Moves messages from a dead-letter queue to its source (`<source>-dlq`, or `options.to`) through the default
   * exchange, with their original routing key; each is acked on the dead-letter queue only after the broker confirmed
   * the copy, so a process that dies midway leaves it in the DLQ (or both), never nowhere. Attempts start again.
   */
  async redrive(deadLetterQueue: string, options: Admin.RedriveOptions): Promise<Admin.RedriveResult> {
    const to = options.to ?? deadLetterSourceName(deadLetterQueue);
    if (!to)
      throw new AdminResourceNotFoundError(
        'dead-letter source',
        deadLetterQueue,
        `its name does not end in "${DEAD_LETTER_SUFFIX}"; pass { to }`,
      );
    if (to === deadLetterQueue) throw new AdminInvalidArgumentError('to', 'must be another queue than the dead-letter queue', to);
    // what is in the queue now: messages that come back during the move stay for next time
    const { messageCount: waiting } = await this.channels.requireQueue(deadLetterQueue);
    await this.channels.requireQueue(to);
    const max = Math.min(options.max ?? waiting, waiting);
    const moved = await this.channels.withConfirms(async (channel) => {
      let count = 0;
      while (count < max && !options.signal?.aborted) {
        const message = await channel.get(deadLetterQueue, { noAck: false });
        if (message === false) break;
        const headers: Record<string, unknown> = { ...(message.properties.headers ?? {}) };
        delete headers[HEADER.receiveCount];
        delete headers[HEADER.deadLetterReason];
        delete headers[HEADER.lastError];
        if (headers[HEADER.originalRoutingKey] === undefined) headers[HEADER.originalRoutingKey] = message.fields.routingKey;
        channel.publish('', to, message.content, { ...message.properties, headers, persistent: true });
        try {
          await channel.waitForConfirms();
        } catch (error) {
          channel.nack(message, false, true);
          throw new AdminBrokerRefusedError(
            'redrive',
            `stopped after ${count} message(s): "${to}" did not accept the next one (${describeError(error)}; a full queue with x-overflow reject-publish?); it stays in "${deadLetterQueue}"`,
          );
        }
        channel.ack(message);
        count += 1;
      }
      return count;
    });
    return { from: deadLetterQueue, to, moved };
  }

  close(): Promise<void> {
    return this.channels.close();
  }

  private async confirmedPublish(exchange: string, routingKey: string, body: string | Buffer, headers?: Record<string, unknown>) {
    const messageId = randomUUID();
    const content = typeof body === 'string' ? Buffer.from(body) : body;
    await this.channels.withConfirms(async (channel) => {
      channel.publish(exchange, routingKey, content, { persistent: true, contentType: contentTypeOf(body), messageId, headers });
      await channel.waitForConfirms();
    });
    return { messageId };
  }

  private async requireBindingEnds(binding: Binding): Promise<void> {
    checkNonEmpty(binding.queue, 'queue name');
    await this.channels.requireQueue(binding.queue);
    if (!isReservedName(binding.exchange)) await this.channels.requireExchange(binding.exchange);
  }

  /** The queue's dead-letter queue as provisioning names it, when it exists (a dead-letter queue has none). */
  private async deadLetterQueueOf(queue: string): Promise<{ messageCount: number } | undefined> {
    return deadLetterSourceName(queue) !== undefined ? undefined : this.channels.checkQueue(deadLetterQueueName(queue));
  }

  private routingKey(topic: string): string {
    return routingKeyOf(this.options.topicPrefix, topic);
  }

  private describe(m: GetMessage): RawPeeked {
    const headers = m.properties.headers ?? {};
    const routingKey =
      typeof headers[HEADER.originalRoutingKey] === 'string' ? String(headers[HEADER.originalRoutingKey]) : m.fields.routingKey;
    const attributes: Record<string, unknown> = {};
    for (const key of Object.keys(headers)) if (!isInternalHeader(key)) attributes[key] = headers[key];
    const content = decodeContent(m.content, m.properties.contentEncoding, this.options.maxDecodedBytes);
    return {
      messageId: m.properties.messageId ?? '',
      topic: topicOfRoutingKey(routingKey, this.options.topicPrefix),
      body: m.content.toString('utf8'),
      attributes,
      receiveCount: (Number(headers[HEADER.receiveCount]) || 0) + 1,
      ...(typeof headers[HEADER.deadLetterReason] === 'string' ? { deadLetterReason: headers[HEADER.deadLetterReason] as string } : {}),
      ...(content.ok ? { envelopeBody: content.body } : {}),
    };
  }

  private requireManagement(operation: string): RabbitMqManagement {
    if (this.management) return this.management;
    throw new AdminOperationUnavailableError(
      operation,
      'amqp',
      'AMQP 0-9-1 has no method to list queues or exchanges; set amqp.managementUrl to the RabbitMQ management API (e.g. http://guest:guest@127.0.0.1:15672, after rabbitmq-plugins enable rabbitmq_management), or use queueInfo(name) / topicInfo(exchange) for resources you know',
    );
  }
}

interface Binding {
  exchange: string;
  routingKey: string;
  queue: string;
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function bindingId(binding: Binding): string {
  return `amqp-binding:${Buffer.from(JSON.stringify([binding.exchange, binding.routingKey, binding.queue])).toString('base64url')}`;
}

function parseBindingId(id: string): Binding {
  const invalid = () => new AdminInvalidArgumentError('subscription', 'an id returned by subscribe() (amqp-binding:...)', id);
  if (!id.startsWith('amqp-binding:')) throw invalid();
  try {
    const [exchange, routingKey, queue] = JSON.parse(
      Buffer.from(id.slice('amqp-binding:'.length), 'base64url').toString('utf8'),
    ) as unknown[];
    if (typeof exchange === 'string' && typeof routingKey === 'string' && typeof queue === 'string') return { exchange, routingKey, queue };
  } catch {
    // not base64url JSON: the same answer as a wrong shape
  }
  throw invalid();
}
