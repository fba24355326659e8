import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { BehaviorSubject, distinctUntilChanged, map, Observable, Subject } from 'rxjs';
import { MESSAGING_BROKER, MESSAGING_ENVELOPE, MESSAGING_OPTIONS } from '../constants.js';
import { describeError } from '../error-text.js';
import type { MessageEnvelope } from '../envelopes/message-envelope.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import { ServiceIdentity } from '../service-identity.js';
import type { Broker } from '../transport/broker.js';
import type { AdminBackend } from '../transport/admin-backend.js';
import { createAdminBackend } from './admin-backend-factory.js';
import { ADMIN_ROUTES, checkCall } from './admin-schemas.js';
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
} from '../transport/admin.types.js';

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
    const checked = checkCall(ADMIN_ROUTES.listQueues, this.transport, {}, options);
    return (await this.use()).listQueues(checked);
  }

  async queueInfo(name: string): Promise<QueueInfo> {
    checkCall(ADMIN_ROUTES.queueInfo, this.transport, { name }, undefined);
    return (await this.use()).queueInfo(name);
  }

  async createQueue(name: string, options: CreateQueueOptions = {}): Promise<CreatedResource> {
    const checked = checkCall(ADMIN_ROUTES.createQueue, this.transport, { name }, options);
    const created = await (await this.use()).createQueue(name, checked);
    if (created.created) this.emit('queue.created', 'queue', created.name, { url: created.url, arn: created.arn });
    return created;
  }

  async deleteQueue(name: string): Promise<void> {
    checkCall(ADMIN_ROUTES.deleteQueue, this.transport, { name }, undefined);
    await (await this.use()).deleteQueue(name);
    this.emit('queue.deleted', 'queue', name);
  }

  async listTopics(options: ListOptions = {}): Promise<TopicSummary[]> {
    const checked = checkCall(ADMIN_ROUTES.listTopics, this.transport, {}, options);
    return (await this.use()).listTopics(checked);
  }

  async topicInfo(topic: string): Promise<TopicInfo> {
    checkCall(ADMIN_ROUTES.topicInfo, this.transport, { topic }, undefined);
    return (await this.use()).topicInfo(topic);
  }

  async createTopic(topic: string, options: CreateTopicOptions = {}): Promise<CreatedResource> {
    const checked = checkCall(ADMIN_ROUTES.createTopic, this.transport, { name: topic }, options);
    const created = await (await this.use()).createTopic(topic, checked);
    if (created.created) this.emit('topic.created', 'topic', created.name, { arn: created.arn });
    return created;
  }

  async deleteTopic(topic: string): Promise<void> {
    checkCall(ADMIN_ROUTES.deleteTopic, this.transport, { topic }, undefined);
    await (await this.use()).deleteTopic(topic);
    this.emit('topic.deleted', 'topic', topic);
  }

  async subscribe(topic: string, queue: string, options: SubscribeOptions = {}): Promise<SubscriptionInfo> {
    const checked = checkCall(ADMIN_ROUTES.subscribe, this.transport, { topic, queue }, options);
    const subscription = await (await this.use()).subscribe(topic, queue, checked);
    this.emit('topic.subscribed', 'subscription', subscription.id, { topic: subscription.topic, queue });
    return subscription;
  }

  async unsubscribe(subscription: string): Promise<void> {
    checkCall(ADMIN_ROUTES.unsubscribe, this.transport, { id: subscription }, undefined);
    await (await this.use()).unsubscribe(subscription);
    this.emit('topic.unsubscribed', 'subscription', subscription);
  }

  /** Encodes `data` through the module's envelope and publishes it on the topic. */
  async publish(topic: string, data: unknown, options: PublishOptions = {}): Promise<SentMessage> {
    const checked = checkCall(ADMIN_ROUTES.publish, this.transport, { topic, data }, options);
    const backend = await this.use();
    const body = await this.envelope.encode(data, { topic: await backend.envelopeTopic(topic), service: this.identity });
    const sent = await backend.publish(topic, body, checked);
    this.emit('message.published', 'message', topic, { messageId: sent.messageId });
    return sent;
  }

  /** Encodes `data` through the module's envelope and sends it to one queue, as if published on `options.topic`. */
  async sendToQueue(queue: string, data: unknown, options: SendToQueueOptions = {}): Promise<SentMessage> {
    const checked = checkCall(ADMIN_ROUTES.sendToQueue, this.transport, { name: queue, data }, options);
    const topic = checked.topic ?? queue;
    const body = await this.envelope.encode(data, { topic, service: this.identity });
    const sent = await (await this.use()).sendToQueue(queue, topic, body, checked);
    this.emit('message.sent', 'message', queue, { messageId: sent.messageId, topic });
    return sent;
  }

  /** Looks at up to `max` messages without consuming them (they are released at once), decoded through the envelope. */
  async peek(queue: string, options: PeekOptions = {}): Promise<PeekedMessage[]> {
    const checked = checkCall(ADMIN_ROUTES.peek, this.transport, { name: queue }, options);
    const raw = await (await this.use()).peek(queue, checked.max ?? 10, checked.spendReceive === true);
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
    checkCall(ADMIN_ROUTES.purge, this.transport, { name: queue }, undefined);
    await (await this.use()).purge(queue);
    this.emit('queue.purged', 'queue', queue);
  }

  /** Moves messages of a dead-letter queue back to its source queue (or `options.to`); each leaves the DLQ only once sent. */
  async redrive(deadLetterQueue: string, options: RedriveOptions = {}): Promise<RedriveResult> {
    const checked = checkCall(ADMIN_ROUTES.redrive, this.transport, { name: deadLetterQueue }, options);
    const result = await (await this.use()).redrive(deadLetterQueue, checked);
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

  private emit(type: AdminEvent['type'], kind: AdminEvent['kind'], resource: string, detail?: Record<string, unknown>): void {
    this.events.next({ type, transport: this.options.transport, kind, resource, at: new Date(), ...(detail ? { detail } : {}) });
  }
}
