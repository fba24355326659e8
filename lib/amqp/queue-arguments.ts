import type { Options } from 'amqplib';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { QueuePlan } from '../transport/broker.js';

/*
 * What each queue of a plan is declared with (durability, x-arguments), without I/O: declare.ts asserts the queues
 * with them, verify-declared.ts and describe-topology.ts read them.
 */

export function mainQueueOptions(plan: QueuePlan, options: ResolvedMessagingOptions): Options.AssertQueue {
  if (!plan.competing) return { durable: false, autoDelete: true, arguments: { 'x-expires': options.amqp.perProcessQueueExpires } };
  const args: Record<string, unknown> = { ...queueTypeArguments(plan, options) };
  if (options.amqp.queueExpires) args['x-expires'] = options.amqp.queueExpires;
  return Object.keys(args).length > 0 ? { durable: true, arguments: args } : { durable: true };
}

export function retryQueueOptions(plan: QueuePlan, options: ResolvedMessagingOptions): Options.AssertQueue {
  const args: Record<string, unknown> = {
    ...queueTypeArguments(plan, options),
    'x-dead-letter-exchange': '',
    'x-dead-letter-routing-key': plan.name,
  };
  if (isQuorum(plan, options)) {
    // a quorum queue dead-letters at most once unless told otherwise; at-least-once needs reject-publish overflow
    args['x-dead-letter-strategy'] = 'at-least-once';
    args['x-overflow'] = 'reject-publish';
  }
  if (!plan.competing) args['x-expires'] = options.amqp.perProcessQueueExpires;
  return { durable: plan.competing, arguments: args };
}

export function deadLetterQueueOptions(plan: QueuePlan, options: ResolvedMessagingOptions): Options.AssertQueue {
  if (!plan.competing) return { durable: true, arguments: { 'x-expires': options.amqp.perProcessQueueExpires } };
  return isQuorum(plan, options) ? { durable: true, arguments: queueTypeArguments(plan, options) } : { durable: true };
}

/**
 * amqp.queueType 'quorum' applies to competing queues only: a per-process queue is auto-delete, which a quorum queue
 * cannot be, and is gone with its process anyway, so it and its -retry and -dlq stay classic. 'classic' declares no
 * x-queue-type at all, as earlier versions did, so existing queues stay equivalent.
 */
function isQuorum(plan: QueuePlan, options: ResolvedMessagingOptions): boolean {
  return plan.competing && options.amqp.queueType === 'quorum';
}

function queueTypeArguments(plan: QueuePlan, options: ResolvedMessagingOptions): Record<string, unknown> {
  return isQuorum(plan, options) ? { 'x-queue-type': 'quorum' } : {};
}
