import type { BrokerStatus } from '../transport/broker.js';
import type { TransportName } from '../messaging.options.js';

/** What every message event carries. */
export interface MessageEventBase {
  transport: TransportName;
  /** The queue the message was consumed from. */
  queue: string;
  /** The topic it was published on (without topicPrefix). */
  topic: string;
  /**
   * The `@EventPattern` that matched: equals `topic` except for AMQP wildcard patterns; undefined when no handler
   * matched. Bounded by the app's own subscriptions, so it is what metrics use as their `topic` label.
   */
  pattern: string | undefined;
  messageId: string;
  /** 1 on the first delivery. */
  attempt: number;
}

/** A message reached the server and its handler starts. */
export interface MessageReceivedEvent extends MessageEventBase {
  type: 'received';
}

/** The handler resolved; the message is acked / deleted. */
export interface MessageHandledEvent extends MessageEventBase {
  type: 'handled';
  /** Milliseconds from receipt by the server to the outcome (decode + handler). */
  durationMs: number;
}

/**
 * The handler threw. `willRetry`: the message comes back after `retryInSeconds`; otherwise a `dead-lettered` event
 * follows for the same message.
 */
export interface MessageFailedEvent extends MessageEventBase {
  type: 'failed';
  durationMs: number;
  reason: string;
  willRetry: boolean;
  retryInSeconds?: number;
}

/** The message goes to the dead-letter queue: attempts used up, undecodable, no handler, or DeadLetterError. */
export interface MessageDeadLetteredEvent extends MessageEventBase {
  type: 'dead-lettered';
  durationMs: number;
  reason: string;
}

/** The broker connection changed (the same values as the server's status observable). */
export interface BrokerStatusEvent {
  type: 'status';
  transport: TransportName;
  status: BrokerStatus;
}

export type MessagingEvent = MessageReceivedEvent | MessageHandledEvent | MessageFailedEvent | MessageDeadLetteredEvent | BrokerStatusEvent;
