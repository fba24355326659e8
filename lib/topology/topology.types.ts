import type { TransportName } from '../messaging.options.js';

/**
 * What the app's handlers need from the broker, as `MessagingServer.describeTopology()` computes it without any I/O
 * (from the same queue plans and desired attributes the server provisions and verifies from). ARNs that only exist
 * once resources are created appear as placeholders (see arn-placeholders.ts) that the generators turn into
 * references.
 */
export interface MessagingTopology {
  transport: TransportName;
  serviceName: string;
  /** SNS topics; AMQP: the exchanges the queues bind on. */
  topics: TopologyTopic[];
  /** Every queue: handler queues, their dead-letter queues and (AMQP) retry queues. */
  queues: TopologyQueue[];
  /** SNS subscriptions; AMQP: bindings. */
  subscriptions: TopologySubscription[];
  /**
   * Handler queues unique to one process (`competing: false`, only with provisioning 'create'): the library creates
   * and removes them at runtime, so generators leave them out (with their dead-letter queue and subscriptions).
   */
  perProcessQueues: string[];
  /**
   * Queues a handler consumes with the `queue` extra: they exist already and the library creates, binds and changes
   * nothing for them (AMQP still needs their `-retry` queue, which is listed in `queues`).
   */
  existingQueues: string[];
  /**
   * SNS+SQS wildcard patterns (`order.*`): subscribed at startup to every topic that matches, which no template can
   * know, so generators leave them out; the IaC must subscribe the queue to each matching topic (and allow them in
   * the queue policy) for provisioning 'verify' to accept it.
   */
  wildcardSubscriptions: Array<{ queue: string; pattern: string; filterPolicy?: string }>;
}

/** One connection's topology, labelled with the connection's name (`default` for the unnamed `forRoot`). */
export interface ConnectionTopology {
  connection: string;
  topology: MessagingTopology;
}

export interface TopologyTopic {
  /** The broker name (SNS topic name, encoded, `.fifo` where FIFO; AMQP exchange name). */
  name: string;
  /** The @EventPattern topics it carries (without topicPrefix). */
  patterns: string[];
  fifo: boolean;
  /** SNS: KmsMasterKeyId; absent when left as it is or disabled. */
  kmsMasterKeyId?: string;
  tags: Record<string, string>;
  /** AMQP: an `amq.*` exchange exists already and is never declared. */
  predeclared?: boolean;
}

export interface TopologyQueue {
  name: string;
  role: 'main' | 'dead-letter' | 'retry';
  fifo: boolean;
  /** True for a `competing: false` handler queue (and its dead-letter queue); see MessagingTopology.perProcessQueues. */
  perProcess: boolean;
  /** SQS: the visibility timeout in seconds (main queues). */
  visibilityTimeout?: number;
  /** Redrive: where a message goes after `maxReceiveCount` attempts. */
  deadLetter?: { queue: string; maxReceiveCount: number };
  /**
   * SNS+SQS: the exact SQS attributes the library sets and `verify` compares (VisibilityTimeout, RedrivePolicy with
   * a placeholder ARN, KmsMasterKeyId, MessageRetentionPeriod, ...); '' means "none".
   */
  attributes: Record<string, string>;
  /** AMQP: queue durability, auto-delete and x-arguments as the library declares them. */
  amqp?: { durable: boolean; autoDelete: boolean; arguments: Record<string, unknown> };
  tags: Record<string, string>;
  /**
   * SNS+SQS: the queue policy document (JSON, with placeholder ARNs) letting exactly `allowedTopics` send: topic names,
   * and the ARNs of topics subscribed by ARN.
   */
  policy?: { allowedTopics: string[]; document: string };
}

export interface TopologySubscription {
  /** Topic (SNS) or exchange (AMQP) name. */
  topic: string;
  /**
   * SNS: set for a topic of another account or region, subscribed by ARN (the `topicArn` extra): it is not in
   * `topics` (its owner keeps it), and `topic` is its name.
   */
  topicArn?: string;
  queue: string;
  pattern: string;
  /** AMQP: the binding's routing key (topicPrefix + pattern). */
  routingKey?: string;
  /** SNS FilterPolicy as JSON; absent when none. */
  filterPolicy?: string;
  filterPolicyScope?: 'MessageAttributes' | 'MessageBody';
  /** SNS: always false (handlers read the SNS notification). */
  rawMessageDelivery?: false;
  perProcess: boolean;
}
