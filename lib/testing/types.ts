import type { EnvelopeMetadata, EnvelopeService, MessageEnvelope } from '../envelopes/message-envelope.js';
import type { AttributeValue } from '../transport/broker.js';

/** What became of a message on one queue. */
export type QueueOutcome = 'success' | 'retry' | 'dead-letter' | 'filtered';
/** What became of a published message: a queue's outcome, or `no-subscriber` when no queue subscribes to the topic. */
export type PublishOutcome = QueueOutcome | 'no-subscriber';

export interface QueueDeliveryResult {
  queue: string;
  outcome: QueueOutcome;
  /** Why it is retried or dead-lettered (the reason a real broker stores with the message). */
  reason?: string;
  /** Handler runs: 0 when filtered, more than 1 with `redeliver`. */
  attempts: number;
  /** For `retry`: when a real broker would deliver it again. */
  retryDelaySeconds?: number;
  /** For `retry`: it should have gone to a dead-letter queue but the queue has none (a real consumer logs an error). */
  deadLetterMissing?: true;
}

export interface PublishResult {
  topic: string;
  messageId: string;
  /** The outcome on the queue, or, when the topic feeds several queues, the most severe of them (dead-letter, retry, success, filtered). */
  outcome: PublishOutcome;
  reason?: string;
  attempts: number;
  retryDelaySeconds?: number;
  deadLetterMissing?: true;
  /** One entry per queue the message reached (or was filtered out of). */
  deliveries: QueueDeliveryResult[];
}

export interface TestPublishOptions {
  /** Message attributes (SNS MessageAttributes / AMQP headers); filter policies are evaluated on them. */
  attributes?: Record<string, AttributeValue>;
  /** Delivery attempt to simulate (`ctx.getReceiveCount()`); default 1. */
  receiveCount?: number;
  /** Deliver again at once (no backoff) while the outcome is `retry`, until it succeeds or is dead-lettered. */
  redeliver?: boolean;
  /** Send straight to this queue (as sendToQueue would), whatever its subscriptions; filter policies do not apply. */
  queue?: string;
  messageId?: string;
  groupId?: string;
  /** The sending service written into the envelope; default `{ name: 'messaging-testing' }`. */
  service?: Partial<EnvelopeService>;
  /** Encode with this envelope instead of the module's (e.g. a handler that overrides its envelope). */
  envelope?: MessageEnvelope;
}

/** A message the app emitted through MessagingClient, as the broker received it. */
export interface EmittedMessage<T = unknown> {
  topic: string;
  /** Decoded through the module's envelope; undefined when that failed (see `decodeError`). */
  data: T;
  attributes: Record<string, AttributeValue>;
  /** Envelope metadata: sending service, message uuid, timestamp, protocol. */
  metadata: EnvelopeMetadata;
  /** The body as it would go on the wire. */
  body: string | Buffer;
  groupId?: string;
  deduplicationId?: string;
  decodeError?: string;
}

export interface WaitOptions {
  /** Deadline; default the module's `timeoutMs` (5000). */
  timeoutMs?: number;
}

export interface WaitForEmittedOptions<T = unknown> extends WaitOptions {
  /** How many matching messages to wait for; default 1. */
  count?: number;
  where?: (message: EmittedMessage<T>) => boolean;
}
