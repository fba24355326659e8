import { BaseRpcContext } from '@nestjs/microservices';
import type { MessagingContext } from './messaging.context.js';

/**
 * What `@Ctx()` gives a batch handler (`batch` extra): the context of each message of the batch, in the order of the
 * payloads its `@Payload()` array holds.
 */
export class MessagingBatchContext extends BaseRpcContext<[messages: readonly MessagingContext[]]> {
  /** One MessagingContext per payload, same order: id, topic, attributes, receive count, group id. */
  getMessages(): readonly MessagingContext[] {
    return this.args[0];
  }

  /** The message ids, in payload order: what BatchFailure names. */
  getMessageIds(): string[] {
    return this.args[0].map((message) => message.getMessageId());
  }

  get size(): number {
    return this.args[0].length;
  }
}
