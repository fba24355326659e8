import { MessagingOptionsError, PublishError } from '../errors.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { QueuePlan } from '../transport/broker.js';
import { checkFilterPolicies } from './filtered-handler.js';
import { retryQueueName, routingKeyOf } from './naming.js';

export const MAX_NAME_BYTES = 255;

/** Names RabbitMQ would refuse, reported at startup with the option that produced them. No I/O. */
export function validatePlans(queues: readonly QueuePlan[], options: ResolvedMessagingOptions): void {
  checkExchange(options.amqp.exchange, 'amqp.exchange');
  for (const plan of queues) {
    const where = `@EventPattern('${plan.subscriptions[0]?.pattern ?? plan.name}')`;
    if (plan.fifo)
      throw new MessagingOptionsError(
        `${where}.fifo`,
        'FIFO queues are an SNS/SQS feature; the amqp transport keeps per-queue order without it',
        true,
      );
    checkQueueName(plan.name, `${where}.queueName`);
    checkQueueName(retryQueueName(plan.name), `${where}.queueName`);
    if (plan.deadLetter) checkQueueName(plan.deadLetter.name, `${where}.deadLetterQueueName`);
    for (const s of plan.subscriptions) {
      const pattern = `@EventPattern('${s.pattern}')`;
      if (s.exchange !== undefined) checkExchange(s.exchange, `${pattern}.exchange`);
      const routingKey = routingKeyOf(options.topicPrefix, s.pattern);
      if (Buffer.byteLength(routingKey) > MAX_NAME_BYTES) {
        throw new MessagingOptionsError(
          `${pattern} (with topicPrefix)`,
          `AMQP routing keys are at most ${MAX_NAME_BYTES} bytes`,
          routingKey,
        );
      }
      if (s.filterPolicyScope === 'MessageBody') {
        throw new MessagingOptionsError(
          `${pattern}.filterPolicyScope`,
          "amqp evaluates filter policies on message headers only; use 'MessageAttributes'",
          s.filterPolicyScope,
        );
      }
    }
  }
  checkFilterPolicies(queues);
}

function checkQueueName(name: string, option: string): void {
  if (name.length === 0) throw new MessagingOptionsError(option, 'AMQP queue names must not be empty', name);
  if (Buffer.byteLength(name) > MAX_NAME_BYTES)
    throw new MessagingOptionsError(
      option,
      `AMQP queue names (including "-retry"/"-dlq" suffixes and queueNamePrefix) are at most ${MAX_NAME_BYTES} bytes`,
      name,
    );
  if (name.startsWith('amq.')) throw new MessagingOptionsError(option, 'RabbitMQ reserves queue names starting with "amq."', name);
}

/** Why a MessagingRecord's `exchange` cannot be published to, as a PublishError; undefined when it can. */
export function refusedExchange(exchange: unknown, topic: string): PublishError | undefined {
  if (typeof exchange === 'string' && exchange.length > 0 && Buffer.byteLength(exchange) <= MAX_NAME_BYTES) return undefined;
  return new PublishError(
    `Cannot publish to topic "${topic}": MessagingRecord exchange must be the name of an exchange, a non-empty string of at most ${MAX_NAME_BYTES} bytes ` +
      `(the default exchange '' would route by queue name, not by topic); got ${JSON.stringify(exchange)}. Leave it unset for amqp.exchange`,
  );
}

function checkExchange(name: string, option: string): void {
  if (typeof name !== 'string' || name.length === 0)
    throw new MessagingOptionsError(
      option,
      'AMQP exchange names must be non-empty (the default exchange cannot take topic bindings)',
      name,
    );
  if (Buffer.byteLength(name) > MAX_NAME_BYTES)
    throw new MessagingOptionsError(option, `AMQP exchange names are at most ${MAX_NAME_BYTES} bytes`, name);
}
