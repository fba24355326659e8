import type { EnvelopeMetadata } from '../envelopes/message-envelope.js';
import type { TransportName } from '../messaging.options.js';
import type { AttributeValue } from './broker.js';

export interface ListOptions {
  /** Only resources whose broker name starts with this. */
  prefix?: string;
}

export interface QueueSummary {
  name: string;
  /** SQS: the QueueUrl the API returned. */
  url?: string;
}

export interface DeadLetterInfo {
  name: string;
  arn?: string;
  /** Messages ready in the dead-letter queue. */
  messages: number;
}

export interface QueueInfo {
  transport: TransportName;
  name: string;
  url?: string;
  arn?: string;
  /** Ready to be received (SQS ApproximateNumberOfMessages; AMQP messageCount). */
  messages: number;
  /** SQS: received, not yet deleted (ApproximateNumberOfMessagesNotVisible). */
  inFlight?: number;
  /** SQS: delayed (ApproximateNumberOfMessagesDelayed). */
  delayed?: number;
  /** AMQP: consumers attached. */
  consumers?: number;
  /** SQS: every queue attribute. */
  attributes?: Record<string, string>;
  /** The queue's dead-letter queue (SQS: its RedrivePolicy; AMQP: `<queue>-dlq` when it exists). */
  deadLetterQueue?: DeadLetterInfo;
  /** SQS: the topic ARNs the queue policy lets send to it. */
  topics?: string[];
  /**
   * Receives after which the broker moves a message to the dead-letter queue (SQS: the RedrivePolicy's
   * maxReceiveCount). Set when looking at a message spends one of them, so that a peek can dead-letter.
   */
  maxReceiveCount?: number;
}

export interface CreateQueueOptions {
  /** SQS FIFO queue (`.fifo` is added to the name). */
  fifo?: boolean;
  /** SQS visibility timeout in seconds (default 30). */
  visibilityTimeout?: number;
  /** Name of its dead-letter queue, or false for none. Default `<name>-dlq` (none when the module's deadLetterQueue is false). */
  deadLetterQueue?: string | false;
  /** Receives before SQS moves a message to the dead-letter queue (default: the module's maxReceiveCount). */
  maxReceiveCount?: number;
}

export interface CreatedResource {
  name: string;
  url?: string;
  arn?: string;
  /** False when it existed already (create is idempotent). */
  created: boolean;
}

export interface TopicSummary {
  /** SNS topic name / AMQP exchange name. */
  name: string;
  arn?: string;
  /** SNS: the topic as @EventPattern names it (topicPrefix removed, decoded); undefined without the module's topicPrefix. */
  topic?: string;
}

export interface SubscriptionInfo {
  /** What unsubscribe() takes: the SNS SubscriptionArn / an opaque AMQP binding id. */
  id: string;
  topic: string;
  queue: string;
  filterPolicy?: Record<string, unknown>;
  filterPolicyScope?: string;
}

export interface TopicInfo {
  transport: TransportName;
  name: string;
  arn?: string;
  attributes?: Record<string, string>;
  subscriptions?: SubscriptionInfo[];
}

export interface CreateTopicOptions {
  /** SNS FIFO topic. */
  fifo?: boolean;
}

export interface SubscribeOptions {
  filterPolicy?: Record<string, unknown>;
  filterPolicyScope?: 'MessageAttributes' | 'MessageBody';
  /** AMQP: the exchange to bind on (default: the module's amqp.exchange). */
  exchange?: string;
}

export interface PublishOptions {
  attributes?: Record<string, AttributeValue>;
  /** SNS FIFO topics: the message group. */
  groupId?: string;
}

export interface SendToQueueOptions extends PublishOptions {
  /** The topic a consumer dispatches the message by (default: the queue name). */
  topic?: string;
  /** SQS: seconds before the message becomes visible. */
  delaySeconds?: number;
}

export interface SentMessage {
  messageId?: string;
}

export interface PeekOptions {
  /** At most this many messages (default 10, at most 100). */
  max?: number;
  /**
   * Peek a queue whose broker dead-letters by receive count (QueueInfo.maxReceiveCount is set) although each
   * message shown spends one receive; without it such a peek is refused (409). Peeking a dead-letter queue is free.
   */
  spendReceive?: boolean;
}

export interface PeekedMessage {
  messageId: string;
  /** The topic it was published on, where the message says. */
  topic?: string;
  /** Decoded through the module's envelope; undefined when that failed (see decodeError). */
  data?: unknown;
  metadata?: EnvelopeMetadata;
  decodeError?: string;
  /** The body as it sits in the queue (SQS: the SNS notification JSON). */
  body: string;
  /** The message's attributes (SNS message attributes and SQS message attributes; AMQP headers). */
  attributes: Record<string, unknown>;
  /** Why it was dead-lettered, when the message carries the reason (the library's dead_letter_reason). */
  deadLetterReason?: string;
  /** Deliveries so far, this peek included. */
  receiveCount: number;
}

export interface RedriveOptions {
  /** Move at most this many (default: all). */
  max?: number;
  /** The queue to move them to (default: the queue whose dead-letter queue this is). */
  to?: string;
  /** Stops the move between two batches (the HTTP API aborts it when the request is gone). */
  signal?: AbortSignal;
}

export interface RedriveResult {
  from: string;
  to: string;
  moved: number;
}

export type AdminEventType =
  | 'queue.created'
  | 'queue.deleted'
  | 'queue.purged'
  | 'queue.redriven'
  | 'topic.created'
  | 'topic.deleted'
  | 'topic.subscribed'
  | 'topic.unsubscribed'
  | 'message.published'
  | 'message.sent'
  | 'resource.appeared'
  | 'resource.disappeared'
  | 'queue.depth'
  | 'consumer.connected'
  | 'consumer.disconnected'
  | 'message.dead-lettered'
  | 'broker.state'
  | 'message.rates';

/**
 * A change made through MessagingAdminService, seen by its watcher, or observed in the app: `queue.depth` (periodic,
 * detail: a QueueOverview), `consumer.connected` / `consumer.disconnected` (this app's consumer of a queue),
 * `message.dead-lettered` (detail: topic, messageId, attempt, reason), `broker.state` (the broker became reachable or
 * not; detail: a BrokerOverview) and `message.rates` (periodic while observed; detail: MessageRates).
 */
export interface AdminEvent {
  type: AdminEventType;
  /** The connection it happened on: `default`, or a `MessagingModule.forRoot({ name })` name. */
  connection: string;
  transport: TransportName;
  kind: 'queue' | 'topic' | 'subscription' | 'message';
  /** The queue / topic / subscription the event is about. */
  resource: string;
  at: Date;
  detail?: Record<string, unknown>;
}

/** One row of the dashboard: a queue this app consumes or the watcher sees, with its depths. */
export interface QueueOverview {
  name: string;
  /** This app consumes it (a MessagingServer consumer). */
  consumed: boolean;
  /** This app's consumer is receiving right now (only for consumed queues). */
  attached?: boolean;
  messages?: number;
  inFlight?: number;
  /** AMQP: consumers attached (any app). */
  consumers?: number;
  /** SQS: the topic ARNs the queue policy lets send to it. */
  topics?: string[];
  deadLetterQueue?: DeadLetterInfo;
  /** As QueueInfo.maxReceiveCount: set when a peek of this queue spends a receive. */
  maxReceiveCount?: number;
  /** Why the depths could not be read. */
  error?: string;
}

/** Whether the app reaches its broker: `reconnecting` (AMQP) while the connection is being made again. */
export type BrokerState = 'connected' | 'reconnecting' | 'unreachable';

export interface BrokerOverview {
  state: BrokerState;
  /** Why not connected (the connection's or the last failed call's error). */
  problem?: string;
}

/** What this app published and handled since the previous `message.rates` event, over `seconds`. */
export interface MessageRates {
  seconds: number;
  /** Emits the broker accepted. */
  published: number;
  /** Deliveries acked. */
  handled: number;
  /** Deliveries whose handler failed and that come back for another attempt. */
  failed: number;
  /** Deliveries moved to the dead-letter queue. */
  deadLettered: number;
}

export interface AdminOverview {
  /** The connection it describes. */
  connection: string;
  transport: TransportName;
  broker: BrokerOverview;
  queues: QueueOverview[];
  at: Date;
}
