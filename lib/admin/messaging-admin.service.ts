import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { BehaviorSubject, distinctUntilChanged, filter, map, Observable, Subject } from 'rxjs';
import { describeError } from '../error-text.js';
import type { TransportName } from '../messaging.options.js';
import { MessagingServer } from '../server/messaging.server.js';
import { AdminInvalidArgumentError } from '../transport/admin.errors.js';
import { AdminConnection, type AdminConnectionOption, type AdminConnectionSummary } from './admin-connection.js';
import { ADMIN_ROUTES, checkCall, type AdminRoute } from './admin-schemas.js';
import { objectOrNothing, type Arguments, type CheckedOptions } from './admin-validation.js';
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

/** Who observes events: every connection's (events$) and each connection's own (eventsOf). */
const EVERY_CONNECTION = Symbol('every connection');
type Observers = ReadonlyMap<string | typeof EVERY_CONNECTION, number>;

/**
 * Operates the messaging resources of the app's connections, each with its own transport, credentials and envelope:
 * list, inspect, create and delete queues and topics, subscribe, publish through the connection's envelope, peek,
 * purge and redrive. Every method acts on the unnamed (default) connection unless its options name another
 * (`{ connection: 'partner' }`, a `MessagingModule.forRoot({ name })`). Queues are named as the broker names them;
 * topics as @EventPattern names them (the connection's topicPrefix is added), or by ARN on SNS. Every change is
 * reported on `events$`, labelled with its connection.
 */
@Injectable()
export class MessagingAdminService implements OnApplicationShutdown {
  private readonly events = new Subject<AdminEvent>();
  private readonly observers = new BehaviorSubject<Observers>(new Map());
  /** Every connection's events. */
  readonly events$: Observable<AdminEvent> = this.observe(EVERY_CONNECTION, this.events);
  private connectionList?: AdminConnection[];

  constructor(private readonly server: MessagingServer) {}

  /** The default connection's transport. */
  get transport(): TransportName {
    return this.connection().transport;
  }

  /** The app's connections, the default first. */
  listConnections(): AdminConnectionSummary[] {
    return this.connections().map((c) => c.summary);
  }

  /**
   * The connection named `name` (default: the default connection) as the admin module operates it (for its HTTP API,
   * monitor and watcher); a name that is not a string, or names no connection, is refused (400).
   * @internal
   */
  connection(name?: unknown): AdminConnection {
    const connections = this.connections();
    if (name === undefined) return connections[0];
    if (typeof name !== 'string')
      throw new AdminInvalidArgumentError('connection', 'must be a string: the name of one connection of this app', name);
    const found = connections.find((c) => c.name === name);
    if (found) return found;
    throw new AdminInvalidArgumentError(
      'connection',
      `names no connection of this app: choose one of ${connections.map((c) => `'${c.name}'`).join(', ')}`,
      name,
    );
  }

  /**
   * The connections as the admin module operates them, the default first; read once the app's modules exist.
   * @internal
   */
  connections(): readonly AdminConnection[] {
    this.connectionList ??= this.server.connections().map((c, _, all) => new AdminConnection(c, all.length > 1));
    return this.connectionList;
  }

  /** One connection's events (default: the default connection's); the name is checked at once. */
  eventsOf(connection?: string): Observable<AdminEvent> {
    const { name } = this.connection(connection);
    return this.observe(name, this.events.pipe(filter((event) => event.connection === name)));
  }

  /** Whether anything subscribes to the connection's events (its own or every connection's; emits on change). */
  observedFor(connection: string): Observable<boolean> {
    return this.observers.pipe(
      map((counts) => (counts.get(EVERY_CONNECTION) ?? 0) + (counts.get(connection) ?? 0) > 0),
      distinctUntilChanged(),
    );
  }

  async listQueues(options: ListOptions & AdminConnectionOption = {}): Promise<QueueSummary[]> {
    const { connection, checked } = this.prepare(ADMIN_ROUTES.listQueues, {}, options);
    return (await connection.use()).listQueues(checked);
  }

  async queueInfo(name: string, options: AdminConnectionOption = {}): Promise<QueueInfo> {
    const { connection } = this.prepare(ADMIN_ROUTES.queueInfo, { name }, options);
    return (await connection.use()).queueInfo(name);
  }

  async createQueue(name: string, options: CreateQueueOptions & AdminConnectionOption = {}): Promise<CreatedResource> {
    const { connection, checked } = this.prepare(ADMIN_ROUTES.createQueue, { name }, options);
    const created = await (await connection.use()).createQueue(name, checked);
    if (created.created) this.emit(connection, 'queue.created', 'queue', created.name, { url: created.url, arn: created.arn });
    return created;
  }

  async deleteQueue(name: string, options: AdminConnectionOption = {}): Promise<void> {
    const { connection } = this.prepare(ADMIN_ROUTES.deleteQueue, { name }, options);
    await (await connection.use()).deleteQueue(name);
    this.emit(connection, 'queue.deleted', 'queue', name);
  }

  async listTopics(options: ListOptions & AdminConnectionOption = {}): Promise<TopicSummary[]> {
    const { connection, checked } = this.prepare(ADMIN_ROUTES.listTopics, {}, options);
    return (await connection.use()).listTopics(checked);
  }

  async topicInfo(topic: string, options: AdminConnectionOption = {}): Promise<TopicInfo> {
    const { connection } = this.prepare(ADMIN_ROUTES.topicInfo, { topic }, options);
    return (await connection.use()).topicInfo(topic);
  }

  async createTopic(topic: string, options: CreateTopicOptions & AdminConnectionOption = {}): Promise<CreatedResource> {
    const { connection, checked } = this.prepare(ADMIN_ROUTES.createTopic, { name: topic }, options);
    const created = await (await connection.use()).createTopic(topic, checked);
    if (created.created) this.emit(connection, 'topic.created', 'topic', created.name, { arn: created.arn });
    return created;
  }

  async deleteTopic(topic: string, options: AdminConnectionOption = {}): Promise<void> {
    const { connection } = this.prepare(ADMIN_ROUTES.deleteTopic, { topic }, options);
    await (await connection.use()).deleteTopic(topic);
    this.emit(connection, 'topic.deleted', 'topic', topic);
  }

  async subscribe(topic: string, queue: string, options: SubscribeOptions & AdminConnectionOption = {}): Promise<SubscriptionInfo> {
    const { connection, checked } = this.prepare(ADMIN_ROUTES.subscribe, { topic, queue }, options);
    const subscription = await (await connection.use()).subscribe(topic, queue, checked);
    this.emit(connection, 'topic.subscribed', 'subscription', subscription.id, { topic: subscription.topic, queue });
    return subscription;
  }

  async unsubscribe(subscription: string, options: AdminConnectionOption = {}): Promise<void> {
    const { connection } = this.prepare(ADMIN_ROUTES.unsubscribe, { id: subscription }, options);
    await (await connection.use()).unsubscribe(subscription);
    this.emit(connection, 'topic.unsubscribed', 'subscription', subscription);
  }

  /** Encodes `data` through the connection's envelope and publishes it on the topic. */
  async publish(topic: string, data: unknown, options: PublishOptions & AdminConnectionOption = {}): Promise<SentMessage> {
    const { connection, checked } = this.prepare(ADMIN_ROUTES.publish, { topic, data }, options);
    const backend = await connection.use();
    const envelope = await connection.envelope();
    const body = await envelope.encode(data, { topic: await backend.envelopeTopic(topic), service: connection.identity });
    const sent = await backend.publish(topic, body, checked);
    this.emit(connection, 'message.published', 'message', topic, { messageId: sent.messageId });
    return sent;
  }

  /** Encodes `data` through the connection's envelope and sends it to one queue, as if published on `options.topic`. */
  async sendToQueue(queue: string, data: unknown, options: SendToQueueOptions & AdminConnectionOption = {}): Promise<SentMessage> {
    const { connection, checked } = this.prepare(ADMIN_ROUTES.sendToQueue, { name: queue, data }, options);
    const topic = checked.topic ?? queue;
    const envelope = await connection.envelope();
    const body = await envelope.encode(data, { topic, service: connection.identity });
    const sent = await (await connection.use()).sendToQueue(queue, topic, body, checked);
    this.emit(connection, 'message.sent', 'message', queue, { messageId: sent.messageId, topic });
    return sent;
  }

  /** Looks at up to `max` messages without consuming them (they are released at once), decoded through the envelope. */
  async peek(queue: string, options: PeekOptions & AdminConnectionOption = {}): Promise<PeekedMessage[]> {
    const { connection, checked } = this.prepare(ADMIN_ROUTES.peek, { name: queue }, options);
    const raw = await (await connection.use()).peek(queue, checked.max ?? 10, checked.spendReceive === true);
    const envelope = await connection.envelope();
    return Promise.all(
      raw.map(async ({ envelopeBody, ...message }) => {
        if (envelopeBody === undefined) return message;
        try {
          const decoded = await envelope.decode(envelopeBody, {
            topic: message.topic ?? '',
            maxDecodedBytes: connection.options.maxDecodedBytes,
          });
          return { ...message, data: decoded.data, metadata: decoded.metadata };
        } catch (error) {
          return { ...message, decodeError: describeError(error) };
        }
      }),
    );
  }

  async purge(queue: string, options: AdminConnectionOption = {}): Promise<void> {
    const { connection } = this.prepare(ADMIN_ROUTES.purge, { name: queue }, options);
    await (await connection.use()).purge(queue);
    this.emit(connection, 'queue.purged', 'queue', queue);
  }

  /** Moves messages of a dead-letter queue back to its source queue (or `options.to`); each leaves the DLQ only once sent. */
  async redrive(deadLetterQueue: string, options: RedriveOptions & AdminConnectionOption = {}): Promise<RedriveResult> {
    const { connection, checked } = this.prepare(ADMIN_ROUTES.redrive, { name: deadLetterQueue }, options);
    const result = await (await connection.use()).redrive(deadLetterQueue, checked);
    this.emit(connection, 'queue.redriven', 'queue', deadLetterQueue, { to: result.to, moved: result.moved });
    return result;
  }

  /** For the watcher and the monitor: reports an event that did not come from an operation of this service. */
  report(
    type: AdminEvent['type'],
    kind: AdminEvent['kind'],
    resource: string,
    detail: Record<string, unknown> | undefined,
    connection: string,
  ): void {
    this.emit(this.connection(connection), type, kind, resource, detail);
  }

  async onApplicationShutdown(): Promise<void> {
    this.events.complete();
    this.observers.complete();
    await Promise.all((this.connectionList ?? []).map((c) => c.close()));
  }

  /**
   * A call's connection (its `connection` option) and its other options checked against that connection's transport,
   * before any broker call.
   */
  private prepare<A extends Arguments & { connection: unknown }>(
    route: AdminRoute<A>,
    positional: Record<string, unknown>,
    options: unknown,
  ): { connection: AdminConnection; checked: Omit<CheckedOptions<A>, 'connection'> } {
    const connection = this.connection(objectOrNothing(options, 'options').connection);
    const all: CheckedOptions<A> & AdminConnectionOption = checkCall(route, connection.transport, positional, options);
    const { connection: _chosen, ...checked } = all;
    return { connection, checked };
  }

  /** `source`, counting its subscribers under `key` while they stay. */
  private observe(key: string | typeof EVERY_CONNECTION, source: Observable<AdminEvent>): Observable<AdminEvent> {
    return new Observable<AdminEvent>((subscriber) => {
      const inner = source.subscribe(subscriber);
      this.count(key, 1);
      return () => {
        inner.unsubscribe();
        this.count(key, -1);
      };
    });
  }

  private count(key: string | typeof EVERY_CONNECTION, change: number): void {
    const counts = new Map(this.observers.value);
    counts.set(key, (counts.get(key) ?? 0) + change);
    this.observers.next(counts);
  }

  private emit(
    connection: AdminConnection,
    type: AdminEvent['type'],
    kind: AdminEvent['kind'],
    resource: string,
    detail?: Record<string, unknown>,
  ): void {
    this.events.next({
      type,
      connection: connection.name,
      transport: connection.transport,
      kind,
      resource,
      at: new Date(),
      ...(detail ? { detail } : {}),
    });
  }
}
