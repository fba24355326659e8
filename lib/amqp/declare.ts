import type { Channel } from 'amqplib';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { QueuePlan } from '../transport/broker.js';
import { exchangeOf, isReservedName, retryQueueName, routingKeyOf } from './naming.js';
import { deadLetterQueueOptions, mainQueueOptions, retryQueueOptions } from './queue-arguments.js';

/** One declaration the broker refused; `operation` names it (e.g. `assertQueue billing-order-paid`). */
export class TopologyStepError extends Error {
  constructor(
    readonly operation: string,
    options: { cause: unknown },
  ) {
    super(`${operation} failed`, options);
  }
}

async function step<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new TopologyStepError(operation, { cause: error });
  }
}

/**
 * Declares exchanges, queues, bindings, the retry queue and the dead-letter queue of each plan. Every call is
 * idempotent (assert*), so it runs at startup and again after each reconnect. A refusal throws TopologyStepError.
 *
 * - a non-`amq.*` exchange: durable topic exchange;
 * - competing queue: durable (x-expires = amqp.queueExpires when set and not 0, by default 86400000 with queueNaming
 *   'tomodachi' as tomodachi declares; x-queue-type quorum with amqp.queueType
 *   'quorum', as its -retry and -dlq); non-competing: auto-delete, non-durable, always classic;
 * - `<queue>-retry`: no consumers; messages wait there for their per-message expiration, then dead-letter through
 *   the default exchange back into `<queue>`;
 * - `<queue>-dlq` (plan.deadLetter.name): durable, written to by the consumer with the reason in a header.
 * A non-competing queue and its -retry and -dlq carry x-expires = amqp.perProcessQueueExpires, so that they vanish
 * after their process died without a clean shutdown; the live process renews them (renewPerProcessQueues).
 */
export async function declareTopology(channel: Channel, plans: readonly QueuePlan[], options: ResolvedMessagingOptions): Promise<void> {
  const exchanges = new Set<string>();
  for (const plan of plans) for (const s of plan.subscriptions) exchanges.add(exchangeOf(s.exchange, options.amqp.exchange));
  for (const exchange of exchanges) {
    if (!isReservedName(exchange))
      await step(`assertExchange ${exchange}`, () => channel.assertExchange(exchange, 'topic', { durable: true }));
  }
  for (const plan of plans) {
    if (plan.existingQueue !== undefined) {
      await declareQueueOnly(channel, plan, options);
      continue;
    }
    await step(`assertQueue ${plan.name}`, () => channel.assertQueue(plan.name, mainQueueOptions(plan, options)));
    await step(`assertQueue ${retryQueueName(plan.name)}`, () =>
      channel.assertQueue(retryQueueName(plan.name), retryQueueOptions(plan, options)),
    );
    const deadLetter = plan.deadLetter;
    if (deadLetter)
      await step(`assertQueue ${deadLetter.name}`, () => channel.assertQueue(deadLetter.name, deadLetterQueueOptions(plan, options)));
    for (const s of plan.subscriptions) {
      const exchange = exchangeOf(s.exchange, options.amqp.exchange);
      const key = routingKeyOf(options.topicPrefix, s.pattern);
      await step(`bindQueue ${plan.name} to exchange ${exchange} with ${key}`, () => channel.bindQueue(plan.name, exchange, key));
    }
  }
}

/**
 * A queue-only plan: the existing queue is only checked (passive checkQueue: no declaration, no binding, no argument
 * changed); beside it `<queue>-retry` is declared, a queue of the library's own through which failed messages wait
 * for their retry (and `sendToQueue` delays) before they dead-letter back into the queue.
 */
async function declareQueueOnly(channel: Channel, plan: QueuePlan, options: ResolvedMessagingOptions): Promise<void> {
  await step(`checkQueue ${plan.name} (a queue-only handler's existing queue, which the library never creates)`, () =>
    channel.checkQueue(plan.name),
  );
  await step(`assertQueue ${retryQueueName(plan.name)}`, () =>
    channel.assertQueue(retryQueueName(plan.name), retryQueueOptions(plan, options)),
  );
}

/** Re-declares a per-process plan's -retry and -dlq queues: a declaration renews their x-expires lease. */
export async function renewPerProcessQueues(channel: Channel, plan: QueuePlan, options: ResolvedMessagingOptions): Promise<void> {
  await channel.assertQueue(retryQueueName(plan.name), retryQueueOptions(plan, options));
  if (plan.deadLetter) await channel.assertQueue(plan.deadLetter.name, deadLetterQueueOptions(plan, options));
}

/**
 * One line per queue for the startup log: the exchange bindings feeding it, its retry queue and its dead-letter queue,
 * and what was done with them (`declared` by provisioning 'create', `verified` by 'verify', `checked` by 'off').
 */
export function topologyLines(plans: readonly QueuePlan[], options: ResolvedMessagingOptions, done: string): string[] {
  return plans.map((plan) => {
    const retry = `retry queue ${retryQueueName(plan.name)}`;
    if (plan.existingQueue !== undefined)
      return `AMQP existing queue ${plan.name} checked (the library never declares it); ${retry} ${done}`;
    const bindings = plan.subscriptions.map(
      (s) => `exchange ${exchangeOf(s.exchange, options.amqp.exchange)} "${routingKeyOf(options.topicPrefix, s.pattern)}"`,
    );
    const deadLetter = plan.deadLetter ? `dead-letter queue ${plan.deadLetter.name}` : 'no dead-letter queue';
    return `AMQP ${bindings.join(', ') || '(no binding)'} → queue ${plan.name} → ${retry}, ${deadLetter}: ${done}`;
  });
}
