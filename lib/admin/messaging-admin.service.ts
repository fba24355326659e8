import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { BehaviorSubject, distinctUntilChanged, map, Observable, Subject } from 'rxjs';
import { MESSAGING_BROKER, MESSAGING_ENVELOPE, MESSAGING_OPTIONS } from '../constants.js';
import { describeError } from '../error-text.js';
import type { MessageEnvelope } from '../envelopes/message-envelope.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import { ServiceIdentity } from '../service-identity.js';
import { topicFromArn } from '../sns-sqs/naming.js';
import type { Broker } from '../transport/broker.js';
import type { AdminBackend } from './admin-backend.js';
import { createAdminBackend } from './admin-backend-factory.js';
import { checkNonEmpty } from './admin-names.js';
import { AdminInvalidArgumentError } from './admin.errors.js';
import type {
  AdminEvent,
  CreatedResource,
  CreateQueueOptions,
  CreateTopicOptions,
  ListOptions,
  PeekedMessage,
  PeekOptions,
  PublishOptions,
  QueueInfo,
  QueueSummary,
  RedriveOptions,
  RedriveResult,
  SendToQueueOptions,
  SentMessage,
  SubscribeOptions,
  SubscriptionInfo,
  TopicInfo,
  TopicSummary,
} from './admin.types.js';

const PEEK_MAX = 100;

/**
 * Operates the messaging resources of MessagingModule's transport, with its credentials: list, inspect, create and
 * delete queues and topics, subscribe, publish through the module's envelope, peek, purge and redrive. Queues are
 * named as the broker names them; topics as @EventPattern names them (topicPrefix is added), or by ARN on SNS.
 * Every change is reported on `events$`.
 */
@Injectable()
export class MessagingAdminService implements OnApplicationShutdown {
  private readonly events = new Subject<AdminEvent>();
  private readonly observers = new BehaviorSubject(0);
  readonly events$: Observable<AdminEvent> = new Observable<AdminEvent>((subscriber) => {
    const inner = this.events.subscribe(subscriber);
    this.observers.next(this.observers.value + 1);
    return () => {
      inner.unsubscribe();
      this.observers.next(this.observers.value - 1);
    };
  });
  /** Whether anything subscribes to events$ (emits on change): periodic events are only produced while it does. */
  readonly observed$: Observable<boolean> = this.observers.pipe(
    map((n) => n > 0),
    distinctUntilChanged(),
  );
  private backend?: Promise<AdminBackend>;

  constructor(
    @Inject(MESSAGING_OPTIONS) private readonly options: ResolvedMessagingOptions,
    @Inject(MESSAGING_BROKER) private readonly broker: Broker,
    @Inject(MESSAGING_ENVELOPE) private readonly envelope: MessageEnvelope,
    private readonly identity: ServiceIdentity,
  ) {}

  get transport(): ResolvedMessagingOptions['transport'] {
    return this.options.transport;
  }

  async listQueues(options: ListOptions = {}): Promise<QueueSummary[]> {
    return (await this.use()).listQueues(checkList(options));
  }

  async queueInfo(name: string): Promise<QueueInfo> {
    checkNonEmpty(name, 'queue name');
    return (await this.use()).queueInfo(name);
  }

  async createQueue(name: string, options: CreateQueueOptions = {}): Promise<CreatedResource> {
    checkNonEmpty(name, 'queue name');
    checkInteger(options.visibilityTimeout, 'visibilityTimeout', 0, 43_200);
    checkInteger(options.maxReceiveCount, 'maxReceiveCount', 1, 1000);
    const created = await (await this.use()).createQueue(name, options);
    if (created.created) this.emit('queue.created', 'queue', created.name, { url: created.url, arn: created.arn });
    return created;
  }

  async deleteQueue(name: string): Promise<void> {
    checkNonEmpty(name, 'queue name');
    await (await this.use()).deleteQueue(name);
    this.emit('queue.deleted', 'queue', name);
  }

  async listTopics(options: ListOptions = {}): Promise<TopicSummary[]> {
    return (await this.use()).listTopics(checkList(options));
  }

  async topicInfo(topic: string): Promise<TopicInfo> {
    checkNonEmpty(topic, 'topic');
    return (await this.use()).topicInfo(topic);
  }

  async createTopic(topic: string, options: CreateTopicOptions = {}): Promise<CreatedResource> {
    checkNonEmpty(topic, 'topic');
    const created = await (await this.use()).createTopic(topic, options);
    if (created.created) this.emit('topic.created', 'topic', created.name, { arn: created.arn });
    return created;
  }

  async deleteTopic(topic: string): Promise<void> {
    checkNonEmpty(topic, 'topic');
    await (await this.use()).deleteTopic(topic);
    this.emit('topic.deleted', 'topic', topic);
  }

  async subscribe(topic: string, queue: string, options: SubscribeOptions = {}): Promise<SubscriptionInfo> {
    checkNonEmpty(topic, 'topic');
    checkNonEmpty(queue, 'queue name');
    if (options.filterPolicy !== undefined && (typeof options.filterPolicy !== 'object' || options.filterPolicy === null))
      throw new AdminInvalidArgumentError('filterPolicy', 'must be an object', options.filterPolicy);
    const subscription = await (await this.use()).subscribe(topic, queue, options);
    this.emit('topic.subscribed', 'subscription', subscription.id, { topic: subscription.topic, queue });
    return subscription;
  }

  async unsubscribe(subscription: string): Promise<void> {
    checkNonEmpty(subscription, 'subscription');
    await (await this.use()).unsubscribe(subscription);
    this.emit('topic.unsubscribed', 'subscription', subscription);
  }

  /** Encodes `data` through the module's envelope and publishes it on the topic. */
  async publish(topic: string, data: unknown, options: PublishOptions = {}): Promise<SentMessage> {
    checkNonEmpty(topic, 'topic');
    const body = await this.envelope.encode(data, { topic: this.envelopeTopic(topic), service: this.identity });
    const sent = await (await this.use()).publish(topic, body, options);
    this.emit('message.published', 'message', topic, { messageId: sent.messageId });
    return sent;
  }

  /** Encodes `data` through the module's envelope and sends it to one queue, as if published on `options.topic`. */
  async sendToQueue(queue: string, data: unknown, options: SendToQueueOptions = {}): Promise<SentMessage> {
    checkNonEmpty(queue, 'queue name');
    if (options.topic !== undefined) checkNonEmpty(options.topic, 'topic');
    checkInteger(options.delaySeconds, 'delaySeconds', 0, 900);
    const topic = options.topic ?? queue;
    const body = await this.envelope.encode(data, { topic, service: this.identity });
    const sent = await (await this.use()).sendToQueue(queue, topic, body, options);
    this.emit('message.sent', 'message', queue, { messageId: sent.messageId, topic });
    return sent;
  }

  /** Looks at up to `max` messages without consuming them (they are released at once), decoded through the envelope. */
  async peek(queue: string, options: PeekOptions = {}): Promise<PeekedMessage[]> {
    checkNonEmpty(queue, 'queue name');
    checkInteger(options.max, 'max', 1, PEEK_MAX);
    const raw = await (await this.use()).peek(queue, options.max ?? 10);
    return Promise.all(
      raw.map(async ({ envelopeBody, ...message }) => {
        if (envelopeBody === undefined) return message;
        try {
          const decoded = await this.envelope.decode(envelopeBody, {
            topic: message.topic ?? '',
            maxDecodedBytes: this.options.maxDecodedBytes,
          });
          return { ...message, data: decoded.data, metadata: decoded.metadata };
        } catch (error) {
          return { ...message, decodeError: describeError(error) };
        }
      }),
    );
  }

  async purge(queue: string): Promise<void> {
    checkNonEmpty(queue, 'queue name');
    await (await this.use()).purge(queue);
    this.emit('queue.purged', 'queue', queue);
  }

  /** Moves messages of a dead-letter queue back to its source queue (or `options.to`); each leaves the DLQ only once sent. */
  async redrive(deadLetterQueue: string, options: RedriveOptions = {}): Promise<RedriveResult> {
    checkNonEmpty(deadLetterQueue, 'dead-letter queue name');
    checkInteger(options.max, 'max', 1, Number.MAX_SAFE_INTEGER);
    const result = await (await this.use()).redrive(deadLetterQueue, options);
    this.emit('queue.redriven', 'queue', deadLetterQueue, { to: result.to, moved: result.moved });
    return result;
  }

  /** For the watcher and the monitor: reports an event that did not come from an operation of this service. */
  report(type: AdminEvent['type'], kind: AdminEvent['kind'], resource: string, detail?: Record<string, unknown>): void {
    this.emit(type, kind, resource, detail);
  }

  async onApplicationShutdown(): Promise<void> {
    this.events.complete();
    this.observers.complete();
    const backend = await this.backend?.catch(() => undefined);
    await backend?.close();
  }

  private use(): Promise<AdminBackend> {
    if (!this.backend) {
      const backend = createAdminBackend(this.options, this.broker);
      backend.catch(() => {
        if (this.backend === backend) this.backend = undefined; // a missing package: try again next call
      });
      this.backend = backend;
    }
    return this.backend;
  }

  /** The topic the envelope records: an SNS ARN as its @EventPattern topic. */
  private envelopeTopic(topic: string): string {
    if (!topic.startsWith('arn:')) return topic;
    return topicFromArn(topic, this.options.topicPrefix) ?? topic.slice(topic.lastIndexOf(':') + 1);
  }

  private emit(type: AdminEvent['type'], kind: AdminEvent['kind'], resource: string, detail?: Record<string, unknown>): void {
    this.events.next({ type, transport: this.options.transport, kind, resource, at: new Date(), ...(detail ? { detail } : {}) });
  }
}

function checkList(options: ListOptions): ListOptions {
  if (options.prefix !== undefined && typeof options.prefix !== 'string')
    throw new AdminInvalidArgumentError('prefix', 'must be a string', options.prefix);
  return options;
}

function checkInteger(value: unknown, argument: string, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new AdminInvalidArgumentError(argument, `must be an integer from ${min} to ${max}`, value);
}
