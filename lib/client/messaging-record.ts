import type { EnvelopeSetting, ProtoClass } from '../envelopes/message-envelope.js';
import type { AttributeValue } from '../transport/broker.js';

export interface MessagingRecordOptions {
  /**
   * Message attributes (SNS MessageAttributes, usable in filter policies; AMQP headers). string -> String,
   * number -> Number, Buffer -> Binary, boolean / null / array -> String.Array (as JSON).
   */
  attributes?: Record<string, AttributeValue>;
  /** FIFO message group; publishing with one sends to the topic's `.fifo` variant. */
  groupId?: string;
  /** FIFO deduplication id; a fresh uuid when absent. */
  deduplicationId?: string;
  /** Envelope for this message instead of the module's. */
  envelope?: EnvelopeSetting;
  /** Message class for ProtobufEnvelope when the data is a plain object. */
  protoClass?: ProtoClass;
  /**
   * AMQP: the exchange to publish this message to instead of `amqp.exchange` (it must exist; a subscription with this
   * `exchange` declares it). SNS+SQS has no exchanges and ignores it, as AMQP ignores groupId.
   */
  exchange?: string;
}

/** Data plus what travels beside it; pass it to `MessagingClient.emit`. */
export class MessagingRecord<T = unknown> {
  constructor(
    readonly data: T,
    readonly options: MessagingRecordOptions = {},
  ) {}
}
