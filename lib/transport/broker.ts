import type { Observable } from 'rxjs';

export type BrokerStatus = 'connected' | 'disconnected' | 'reconnecting';

/** One topic (or AMQP binding pattern) feeding a queue. */
export interface SubscriptionPlan {
  /** The @EventPattern topic, without topicPrefix. AMQP patterns may use `*` and `#`. */
  pattern: string;
  filterPolicy?: Record<string, unknown>;
  filterPolicyScope?: 'MessageAttributes' | 'MessageBody';
  /** AMQP exchange the pattern is bound on. */
  exchange?: string;
  /** SNS: a topic of another account or region, subscribed by ARN and never created; the pattern only routes. */
  topicArn?: string;
}

/** A queue and everything that feeds it, as the server derived it from the handlers. */
export interface QueuePlan {
  /** Final queue name: queueNamePrefix applied; the broker adds nothing but a `.fifo` suffix where it needs one. */
  name: string;
  competing: boolean;
  fifo: boolean;
  visibilityTimeout: number;
  /** Null when dead-lettering is turned off. */
  deadLetter: { name: string } | null;
  maxReceiveCount: number;
  /** Base retry delay in seconds; doubled per attempt. */
  retryBackoff: number;
  concurrency: number;
  /** FIFO queue settings from the extras; undefined leaves the queue's attribute as it is. */
  contentBasedDeduplication?: boolean;
  deduplicationScope?: 'queue' | 'messageGroup';
  fifoThroughputLimit?: 'perQueue' | 'perMessageGroupId';
  subscriptions: SubscriptionPlan[];
  /**
   * Set for a queue-only consumer (`@EventPattern(topic, { queue })`): the queue exists already, as given (a name with
   * queueNamePrefix applied, a URL or an ARN). The broker creates no topic, subscription or binding and changes none
   * of the queue's attributes; `subscriptions` then only name the handlers' topics for routing.
   */
  existingQueue?: string;
}

/** A message as received, before the envelope decoded it. */
export interface InboundDelivery {
  /** The topic it was published on, without topicPrefix (SNS: from the TopicArn; AMQP: the routing key). */
  topic: string;
  /** The envelope-encoded body (the SNS Message / the AMQP body). */
  body: string | Buffer;
  attributes: Record<string, unknown>;
  messageId: string;
  /** The transport carried no message id (messageId is a stand-in): the envelope's message uuid replaces it. */
  messageIdMissing?: boolean;
  /** 1 on the first delivery. */
  receiveCount: number;
  /** FIFO message group, where the broker has one. */
  groupId?: string;
  /** The broker's own message object (SQS Message, amqplib ConsumeMessage). */
  raw: unknown;
}

export type DeliveryOutcome =
  | { kind: 'ack' }
  /**
   * The handler (or the delivery) failed: settle() retries it while attempts remain, then dead-letters it. `detail`:
   * for the log line only, an inspection of a thrown value that is not an Error (it has no stack).
   */
  | { kind: 'failed'; reason: string; detail?: string }
  | { kind: 'dead-letter'; reason: string };

export type DeliveryHandler = (delivery: InboundDelivery) => Promise<DeliveryOutcome>;

/** A message the transport sent to the dead-letter queue before any handler saw it (undecodable, missing payload). */
interface TransportRejection {
  messageId: string;
  /** The topic, where the transport could read one. */
  topic?: string;
  receiveCount: number;
  reason: string;
}

/** Told of each TransportRejection (the server reports them on events$ like a handler's dead-letter). */
export type RejectionListener = (rejection: TransportRejection) => void;

export type AttributeValue = string | number | boolean | null | Buffer | Uint8Array | readonly unknown[];

export interface OutboundMessage {
  /** The topic as given to emit, without topicPrefix. */
  topic: string;
  body: string | Buffer;
  attributes: Record<string, AttributeValue>;
  groupId?: string;
  deduplicationId?: string;
  /** The envelope's message uuid, sent as the transport's message id where it has one (AMQP message_id). */
  messageId?: string;
  /** AMQP: the exchange instead of the module's amqp.exchange. */
  exchange?: string;
}

/** A message for `MessagingClient.sendToQueue`: straight to one queue, no topic, no fan-out. */
export interface QueueMessage {
  /** The queue as given to sendToQueue: a name (the broker adds queueNamePrefix), an SQS queue URL or an SQS queue ARN. */
  queue: string;
  /** The envelope-encoded body. */
  body: string | Buffer;
  attributes: Record<string, AttributeValue>;
  /** Seconds before the message becomes visible (SQS 0-900). */
  delaySeconds?: number;
  groupId?: string;
  deduplicationId?: string;
  /** The envelope's message uuid, sent as the transport's message id where it has one (AMQP message_id). */
  messageId?: string;
}

/** One consumed queue, as the broker sees it right now. */
export interface ConsumerHealth {
  queue: string;
  /** Receiving: AMQP a live channel with its consumer; SNS+SQS the receive loop running. */
  attached: boolean;
  /** SNS+SQS: ReceiveMessage calls that failed in a row (0 after a success). */
  receiveFailures?: number;
  /** The last receive failure of that streak. */
  lastError?: string;
}

export interface BrokerHealth {
  connected: boolean;
  /** Why not connected. */
  problem?: string;
  consumers: ConsumerHealth[];
}

export interface DeadLetterDepth {
  queue: string;
  deadLetterQueue: string;
  /** Messages ready in the dead-letter queue (SQS: ApproximateNumberOfMessages). */
  messages: number;
}

export interface QueueDepth {
  queue: string;
  /** Messages ready in the queue (SQS: ApproximateNumberOfMessages; AMQP: the passive declare's message count). */
  messages: number;
  deadLetterQueue?: string;
  deadLetterMessages?: number;
}

/**
 * What a transport implements. The server and client speak only to this; everything SNS/SQS or AMQP specific
 * (names, attributes, acks, retries, dead-lettering) stays behind it.
 */
export interface Broker {
  readonly status$: Observable<BrokerStatus>;
  /** Throws MessagingOptionsError for a name or value this broker would reject. No I/O. */
  validate(queues: readonly QueuePlan[]): void;
  /** Creates or updates topics, queues, bindings and policies; idempotent. */
  provision(queues: readonly QueuePlan[]): Promise<void>;
  /** Starts delivering the queue's messages to `handler`, at most `queue.concurrency` at once, acting on each outcome. */
  consume(queue: QueuePlan, handler: DeliveryHandler, onRejected?: RejectionListener): Promise<void>;
  /** Stops receiving, waits up to `drainTimeoutMs` for in-flight handlers, releases what did not finish, removes non-competing queues. */
  stopConsuming(drainTimeoutMs: number): Promise<void>;
  /** Resolves once the broker has accepted the message. */
  publish(message: OutboundMessage): Promise<void>;
  /** Sends straight to one existing queue; resolves once the broker has accepted the message. */
  sendToQueue?(message: QueueMessage): Promise<void>;
  close(): Promise<void>;
  /** The underlying clients / connection, for `unwrap()`. */
  unwrap(): unknown;
  /** Connection and consumers right now, for MessagingHealthIndicator; no I/O. */
  health?(): BrokerHealth;
  /** Messages in the dead-letter queue of every consumed queue that has one. */
  deadLetterDepths?(): Promise<DeadLetterDepth[]>;
  /** Messages in every consumed queue and in its dead-letter queue. */
  queueDepths?(): Promise<QueueDepth[]>;
}
