import { MessagingOptionsError } from '../errors.js';
import { deadLetterQueueName, decodeName, encodeName } from '../naming.js';
import type { QueuePlan } from '../transport/broker.js';

export const QUEUE_NAME_MAX = 80;
export const TOPIC_NAME_MAX = 256;
const VALID = /^[A-Za-z0-9_-]+$/;

/** SNS topic name for a pattern: prefix + pattern, encoded reversibly; `.fifo` for FIFO topics. */
export function topicName(topicPrefix: string, pattern: string, fifo: boolean): string {
  return `${encodeName(`${topicPrefix}${pattern}`)}${fifo ? '.fifo' : ''}`;
}

/** The pattern-space topic (topicPrefix removed) of a TopicArn; undefined when it does not carry the prefix. */
export function topicFromArn(topicArn: string, topicPrefix: string): string | undefined {
  const name = topicArn.slice(topicArn.lastIndexOf(':') + 1).replace(/\.fifo$/, '');
  const decoded = decodeName(name);
  if (!decoded.startsWith(topicPrefix)) return undefined;
  return decoded.slice(topicPrefix.length);
}

/** The topic a delivery from this TopicArn is routed by: topicFromArn, or the whole decoded name without the prefix. */
export function deliveryTopicOfArn(topicArn: string, topicPrefix: string): string {
  return topicFromArn(topicArn, topicPrefix) ?? decodeName(topicArn.slice(topicArn.lastIndexOf(':') + 1).replace(/\.fifo$/, ''));
}

/** The SQS name of a planned queue: `.fifo` added for a FIFO queue whose name lacks it. */
export function queueName(plan: Pick<QueuePlan, 'name' | 'fifo'>): string {
  return withFifo(plan.name, plan.fifo);
}

/** The SQS name of a planned queue's dead-letter queue (`.fifo` added as queueName adds it); undefined without one. */
export function sqsDeadLetterQueueName(plan: Pick<QueuePlan, 'deadLetter' | 'fifo'>): string | undefined {
  return plan.deadLetter ? withFifo(plan.deadLetter.name, plan.fifo) : undefined;
}

/**
 * The dead-letter queue the library names for an SQS queue (the planner's default, the admin's createQueue):
 * deadLetterQueueName before the `.fifo` SQS requires at the end of a FIFO queue's name (`orders.fifo` → `orders-dlq.fifo`).
 */
export function sqsDeadLetterQueueNameOf(queue: string): string {
  return queue.endsWith('.fifo') ? `${deadLetterQueueName(queue.slice(0, -'.fifo'.length))}.fifo` : deadLetterQueueName(queue);
}

function withFifo(name: string, fifo: boolean): string {
  return fifo && !name.endsWith('.fifo') ? `${name}.fifo` : name;
}

/** Throws MessagingOptionsError for a queue or topic name SQS/SNS would reject. No I/O. */
export function validateQueuePlans(queues: readonly QueuePlan[], topicPrefix: string): void {
  for (const plan of queues) {
    const where = `@EventPattern('${plan.subscriptions[0]?.pattern ?? plan.name}')`;
    checkQueueName(queueName(plan), plan.name, `${where}.queueName`, plan.fifo);
    const dlq = sqsDeadLetterQueueName(plan);
    if (dlq && plan.deadLetter) checkQueueName(dlq, plan.deadLetter.name, `${where}.deadLetterQueueName`, plan.fifo);
    for (const sub of plan.subscriptions) {
      if (sub.topicArn !== undefined && /[*#]/.test(sub.pattern))
        throw new MessagingOptionsError(
          `@EventPattern('${sub.pattern}').topicArn`,
          'names one topic, so the pattern that routes its messages to the handler may not hold wildcards (* or #)',
          sub.topicArn,
        );
      const name = topicName(topicPrefix, sub.pattern, plan.fifo);
      // a topic named by ARN is its owner's: no topic of this name is made
      if (sub.topicArn === undefined && name.length > TOPIC_NAME_MAX) {
        throw new MessagingOptionsError(
          `@EventPattern('${sub.pattern}')`,
          `SNS topic name (topicPrefix + pattern, encoded) must be at most ${TOPIC_NAME_MAX} characters; it is ${name.length}`,
          name,
        );
      }
      if (sub.pattern.length === 0)
        throw new MessagingOptionsError(`@EventPattern('${sub.pattern}')`, 'topic must be a non-empty string', sub.pattern);
      if (sub.filterPolicy !== undefined) {
        try {
          JSON.stringify(sub.filterPolicy);
        } catch {
          throw new MessagingOptionsError(`@EventPattern('${sub.pattern}').filterPolicy`, 'must be JSON-serialisable');
        }
      }
    }
  }
}

function checkQueueName(full: string, given: string, option: string, fifo: boolean): void {
  const base = fifo ? full.slice(0, -'.fifo'.length) : full;
  if (!fifo && full.endsWith('.fifo')) {
    throw new MessagingOptionsError(option, "may end in '.fifo' only for a FIFO subscription (fifo: true)", given);
  }
  if (!VALID.test(base)) {
    throw new MessagingOptionsError(option, 'SQS queue names (with queueNamePrefix) may contain only A-Z, a-z, 0-9, _ and -', given);
  }
  if (full.length > QUEUE_NAME_MAX) {
    throw new MessagingOptionsError(
      option,
      `SQS queue names (with queueNamePrefix${fifo ? " and '.fifo'" : ''}) must be at most ${QUEUE_NAME_MAX} characters; "${full}" has ${full.length}`,
      given,
    );
  }
}
