import type { LoggerService } from '@nestjs/common';
import type { DeliveryOutcome, QueuePlan } from './broker.js';
import type { Settlement } from './settlement.js';

/** The message a log line is about: its id, the queue it was consumed from, and its topic where the transport knows it. */
export interface SettledMessage {
  messageId: string;
  queue: string;
  topic?: string;
  receiveCount: number;
}

/**
 * A queue's own dead-lettering by the broker, when the library leaves the last move to it: SQS's RedrivePolicy moves a
 * message whose receive count reached `maxReceiveCount` to `deadLetterQueue` at its next receive.
 */
export interface BrokerRedrive {
  deadLetterQueue: string;
  maxReceiveCount: number;
}

function subject(message: SettledMessage): string {
  return `Message ${message.messageId}${message.topic !== undefined ? ` on "${message.topic}"` : ''} in ${message.queue}`;
}

/**
 * The one line for a settled failure, after the consumer carried the decision out: a WARN per failed attempt that is
 * retried, the ERROR when the message should be dead-lettered but its queue has none, or (when `redrive` says the
 * broker moves it at its next receive) the ERROR naming that dead-letter queue. Nothing for an ack or a dead-letter
 * decision (deadLettered() tells that one, once the move succeeded).
 */
export function logSettledFailure(
  logger: LoggerService,
  message: SettledMessage,
  outcome: DeliveryOutcome,
  decision: Settlement,
  plan: Pick<QueuePlan, 'maxReceiveCount'>,
  redrive?: BrokerRedrive,
): void {
  if (decision.action !== 'retry') return;
  const detail = outcome.kind === 'failed' && outcome.detail ? ` (${outcome.detail})` : '';
  if (redrive && message.receiveCount >= redrive.maxReceiveCount) {
    logger.error(brokerDeadLettering(message, redrive, `${decision.reason}${detail}`));
    return;
  }
  if (decision.deadLetterMissing && !redrive) {
    logger.error(
      `${subject(message)} should go to a dead-letter queue but the queue has none; it is retried in ${decision.delaySeconds} s (${decision.reason})`,
    );
    return;
  }
  const attempts = redrive?.maxReceiveCount ?? plan.maxReceiveCount;
  logger.warn?.(
    `${subject(message)} failed on attempt ${message.receiveCount} of ${attempts}; retried in ${decision.delaySeconds} s: ${decision.reason}${detail}`,
  );
}

/** The one ERROR for a message the consumer moved to its dead-letter queue. */
export function logDeadLettered(logger: LoggerService, message: SettledMessage, deadLetterQueue: string, reason: string): void {
  logger.error(`${subject(message)} was dead-lettered to ${deadLetterQueue} (attempt ${message.receiveCount}): ${reason}`);
}

/** The text of the ERROR for a message the broker's own dead-lettering moves at its next receive. */
export function brokerDeadLettering(message: SettledMessage, redrive: BrokerRedrive, reason: string): string {
  return `${subject(message)} failed its last attempt (${message.receiveCount} of ${redrive.maxReceiveCount}): SQS moves it to ${redrive.deadLetterQueue} at its next receive (the queue's RedrivePolicy): ${reason}`;
}
