import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { QueuePlan } from '../transport/broker.js';
import { TopologyVerificationError, type TopologyMismatch } from '../topology/verification-error.js';
import type { AmqpModel } from './connection.js';
import { CLOSE_GRACE_MS, settleBy } from './deadline.js';
import { exchangeOf, isReservedName, retryQueueName } from './naming.js';

/**
 * `provisioning: 'verify'` on AMQP: passive declares only (checkExchange, checkQueue, each on a throwaway channel,
 * since a missing one closes it). Throws one TopologyVerificationError listing every exchange and queue (main,
 * `-retry`, dead-letter) that does not exist. AMQP 0-9-1 has no passive check for bindings or queue arguments:
 * those are trusted.
 */
export async function verifyTopology(
  model: AmqpModel,
  plans: readonly QueuePlan[],
  options: ResolvedMessagingOptions,
  safeUrl: string,
): Promise<void> {
  const missing: TopologyMismatch[] = [];
  const exchanges = new Set<string>();
  for (const plan of plans) for (const s of plan.subscriptions) exchanges.add(exchangeOf(s.exchange, options.amqp.exchange));
  for (const exchange of exchanges) {
    if (isReservedName(exchange)) continue;
    if (!(await exists(model, (channel) => channel.checkExchange(exchange)))) {
      missing.push({ kind: 'exchange', resource: exchange, expected: 'a durable topic exchange', found: 'no such exchange' });
    }
  }
  for (const plan of plans) {
    const keys = plan.subscriptions
      .map((s) => `${exchangeOf(s.exchange, options.amqp.exchange)}:${options.topicPrefix}${s.pattern}`)
      .join(', ');
    const queues: Array<[string, string, string]> = [
      ['queue', plan.name, `a durable queue bound to ${keys}`],
      ['retry queue', retryQueueName(plan.name), `a durable queue dead-lettering to "${plan.name}" through the default exchange`],
    ];
    if (plan.deadLetter) queues.push(['dead-letter queue', plan.deadLetter.name, 'a durable queue']);
    for (const [kind, name, expected] of queues) {
      if (!(await exists(model, (channel) => channel.checkQueue(name))))
        missing.push({ kind, resource: name, expected, found: 'no such queue' });
    }
  }
  if (missing.length > 0) throw new TopologyVerificationError('amqp', safeUrl, missing, 'verify');
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
      await settleBy(
        channel.close().catch(() => undefined),
        Date.now() + CLOSE_GRACE_MS,
      );
  }
}
