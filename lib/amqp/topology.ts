import type { Channel, Options } from 'amqplib';
import type { ResolvedMessagingOptions } from '../options-validation.js';
import type { QueuePlan } from '../transport/broker.js';
import { exchangeOf, isReservedName, retryQueueName } from './naming.js';

/** A per-process retry queue lives this long after its last (re-)declaration; longer than the longest retry delay. */
const NON_COMPETING_RETRY_EXPIRES_MS = 3_600_000;

/**
 * Declares exchanges, queues, bindings, the retry queue and the dead-letter queue of each plan. Every call is
 * idempotent (assert*), so it runs at startup and again after each reconnect.
 *
 * - a non-`amq.*` exchange: durable topic exchange;
 * - competing queue: durable (x-expires = amqp.queueExpires when set); non-competing: auto-delete, non-durable;
 * - `<queue>-retry`: no consumers; messages wait there for their per-message expiration, then dead-letter through
 *   the default exchange back into `<queue>`;
 * - `<queue>-dlq` (plan.deadLetter.name): durable, written to by the consumer with the reason in a header.
 */
export async function declareTopology(channel: Channel, plans: readonly QueuePlan[], options: ResolvedMessagingOptions): Promise<void> {
  const exchanges = new Set<string>();
  for (const plan of plans) for (const s of plan.subscriptions) exchanges.add(exchangeOf(s.exchange, options.amqp.exchange));
  for (const exchange of exchanges) {
    if (!isReservedName(exchange)) await channel.assertExchange(exchange, 'topic', { durable: true });
  }
  for (const plan of plans) {
    await channel.assertQueue(plan.name, mainQueueOptions(plan, options));
    await channel.assertQueue(retryQueueName(plan.name), retryQueueOptions(plan));
    if (plan.deadLetter) await channel.assertQueue(plan.deadLetter.name, { durable: true });
    for (const s of plan.subscriptions) {
      await channel.bindQueue(plan.name, exchangeOf(s.exchange, options.amqp.exchange), `${options.topicPrefix}${s.pattern}`);
    }
  }
}

export function mainQueueOptions(plan: QueuePlan, options: ResolvedMessagingOptions): Options.AssertQueue {
  if (!plan.competing) return { durable: false, autoDelete: true };
  return options.amqp.queueExpires ? { durable: true, arguments: { 'x-expires': options.amqp.queueExpires } } : { durable: true };
}

export function retryQueueOptions(plan: QueuePlan): Options.AssertQueue {
  const args: Record<string, unknown> = { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': plan.name };
  if (!plan.competing) args['x-expires'] = NON_COMPETING_RETRY_EXPIRES_MS;
  return { durable: plan.competing, arguments: args };
}
