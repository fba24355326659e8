import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { QueuePlan } from '../transport/broker.js';
import { TopologyVerificationError, type TopologyMismatch } from '../transport/verification-error.js';
import type { AmqpModel } from './connection.js';
import { CLOSE_GRACE_MS, awaitUntil } from './deadline.js';
import { exchangeOf, isReservedName, retryQueueName, routingKeyOf } from './naming.js';
import { mainQueueOptions } from './queue-arguments.js';

/**
 * `provisioning: 'verify'` and `'off'` on AMQP: passive declares only (checkExchange, checkQueue, each on a throwaway
 * channel, since a missing one closes it). Throws one TopologyVerificationError listing every queue (main, `-retry`,
 * dead-letter) and, for 'verify', every exchange that does not exist. 'off' checks the queues too: without its
 * `-retry` or `-dlq` queue the default exchange would drop retried and dead-lettered messages without a word.
 * AMQP 0-9-1 has no passive check for bindings or queue arguments (queue type included): those are trusted.
 */
export async function verifyTopology(
  model: AmqpModel,
  plans: readonly QueuePlan[],
  options: ResolvedMessagingOptions,
  safeUrl: string,
  mode: 'verify' | 'off',
): Promise<void> {
  const missing: TopologyMismatch[] = [];
  const exchanges = new Set<string>();
  if (mode === 'verify')
    for (const plan of plans) {
      if (plan.existingQueue === undefined)
        for (const s of plan.subscriptions) exchanges.add(exchangeOf(s.exchange, options.amqp.exchange));
    }
  for (const exchange of exchanges) {
    if (isReservedName(exchange)) continue;
    if (!(await exists(model, (channel) => channel.checkExchange(exchange)))) {
      missing.push({ kind: 'exchange', resource: exchange, expected: 'a durable topic exchange', found: 'no such exchange' });
    }
  }
  for (const plan of plans) {
    for (const [kind, name, expected] of expectedQueues(plan, options)) {
      if (!(await exists(model, (channel) => channel.checkQueue(name))))
        missing.push({ kind, resource: name, expected, found: 'no such queue' });
    }
  }
  if (missing.length > 0) throw new TopologyVerificationError('amqp', safeUrl, missing, mode);
}

/** [kind, name, what it should be] of each queue a plan consumes or publishes to. */
function expectedQueues(plan: QueuePlan, options: ResolvedMessagingOptions): Array<[string, string, string]> {
  const durable = mainQueueOptions(plan, options).arguments?.['x-queue-type'] === 'quorum' ? 'a durable quorum queue' : 'a durable queue';
  const retry: [string, string, string] = [
    'retry queue',
    retryQueueName(plan.name),
    `${durable} dead-lettering to "${plan.name}" through the default exchange`,
  ];
  if (plan.existingQueue !== undefined)
    return [['queue', plan.name, 'an existing queue (a queue-only handler consumes it as it is)'], retry];
  const keys = plan.subscriptions
    .map((s) => `${exchangeOf(s.exchange, options.amqp.exchange)}:${routingKeyOf(options.topicPrefix, s.pattern)}`)
    .join(', ');
  const queues: Array<[string, string, string]> = [['queue', plan.name, `${durable} bound to ${keys}`], retry];
  if (plan.deadLetter) queues.push(['dead-letter queue', plan.deadLetter.name, durable]);
  return queues;
}

async function exists(
  model: AmqpModel,
  check: (channel: Awaited<ReturnType<AmqpModel['createChannel']>>) => Promise<unknown>,
): Promise<boolean> {
  const channel = await model.createChannel();
  let closedByBroker = false;
  channel.on('error', () => {
    closedByBroker = true;
  });
  try {
    await check(channel);
    return true;
  } catch (error) {
    if (closedByBroker || /NOT_FOUND|404/.test(String((error as Error)?.message))) return false;
    throw error;
  } finally {
    if (!closedByBroker)
      await awaitUntil(
        channel.close().catch(() => undefined),
        Date.now() + CLOSE_GRACE_MS,
      );
  }
}
