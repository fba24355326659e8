import { BaseRpcContext } from '@nestjs/microservices';
import type { EnvelopeMetadata } from '../envelopes/message-envelope.js';

type MessagingContextArgs = [
  topic: string,
  attributes: Record<string, unknown>,
  messageId: string,
  receiveCount: number,
  envelope: EnvelopeMetadata,
  raw: unknown,
  groupId: string | undefined,
];

/** What `@Ctx()` gives a messaging handler. */
export class MessagingContext extends BaseRpcContext<MessagingContextArgs> {
  /** The topic without topicPrefix (AMQP: the routing key the message was published with). */
  getTopic(): string {
    return this.args[0];
  }

  /** Message attributes (SNS MessageAttributes / AMQP headers), decoded to strings, numbers, Buffers and arrays. */
  getAttributes(): Record<string, unknown> {
    return this.args[1];
  }

  getMessageId(): string {
    return this.args[2];
  }

  /** 1 on the first delivery, higher on each retry. */
  getReceiveCount(): number {
    return this.args[3];
  }

  /** What the envelope carried besides the data: sending service, message uuid, timestamp, protocol. */
  getEnvelope(): EnvelopeMetadata {
    return this.args[4];
  }

  /** The broker's own message: an SQS Message or an amqplib ConsumeMessage. */
  getRawMessage<T = unknown>(): T {
    return this.args[5] as T;
  }

  /** The FIFO message group, when there is one. */
  getGroupId(): string | undefined {
    return this.args[6];
  }
}
