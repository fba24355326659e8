import { deadLetterQueueOptions, mainQueueOptions, retryQueueOptions } from './queue-arguments.js';
import { exchangeOf, isReservedName, retryQueueName, routingKeyOf } from './naming.js';
import { validatePlans } from './rabbitmq-limits.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { QueuePlan } from '../transport/broker.js';
import type { MessagingTopology, TopologyQueue, TopologySubscription, TopologyTopic } from '../topology/topology.types.js';

type AssertQueue = { durable?: boolean; autoDelete?: boolean; arguments?: Record<string, unknown> };
const declared = (o: AssertQueue) => ({
  durable: o.durable ?? true,
  autoDelete: o.autoDelete ?? false,
  arguments: { ...(o.arguments ?? {}) },
});

/**
 * The AMQP topology of the queue plans: exchanges, the queue, its `-retry` and `-dlq` queues with the arguments
 * declareTopology() asserts (queue-arguments.ts), and one binding per subscription. Filter policies are applied by
 * the consumer, not by the broker, so bindings carry none. No I/O.
 */
export function describeAmqpTopology(plans: readonly QueuePlan[], options: ResolvedMessagingOptions): MessagingTopology {
  validatePlans(plans, options);
  const topics = new Map<string, TopologyTopic>();
  const queues: TopologyQueue[] = [];
  const subscriptions: TopologySubscription[] = [];
  const existingQueues: string[] = [];
  for (const plan of plans) {
    const perProcess = !plan.competing;
    const base = { fifo: false, perProcess, attributes: {}, tags: {} };
    const existing = plan.existingQueue !== undefined;
    if (existing) existingQueues.push(plan.name);
    else
      queues.push({
        ...base,
        name: plan.name,
        role: 'main',
        ...(plan.deadLetter ? { deadLetter: { queue: plan.deadLetter.name, maxReceiveCount: plan.maxReceiveCount } } : {}),
        amqp: declared(mainQueueOptions(plan, options)),
      });
    queues.push({ ...base, name: retryQueueName(plan.name), role: 'retry', amqp: declared(retryQueueOptions(plan, options)) });
    if (existing) continue; // bound and dead-lettered by its owner
    if (plan.deadLetter)
      queues.push({ ...base, name: plan.deadLetter.name, role: 'dead-letter', amqp: declared(deadLetterQueueOptions(plan, options)) });
    for (const sub of plan.subscriptions) {
      const exchange = exchangeOf(sub.exchange, options.amqp.exchange);
      const topic = topics.get(exchange) ?? { name: exchange, patterns: [], fifo: false, tags: {}, predeclared: isReservedName(exchange) };
      if (!topic.patterns.includes(sub.pattern)) topic.patterns.push(sub.pattern);
      topics.set(exchange, topic);
      subscriptions.push({
        topic: exchange,
        queue: plan.name,
        pattern: sub.pattern,
        routingKey: routingKeyOf(options.topicPrefix, sub.pattern),
        perProcess,
      });
    }
  }
  return {
    transport: 'amqp',
    serviceName: options.serviceName,
    topics: [...topics.values()],
    queues,
    subscriptions,
    perProcessQueues: plans.filter((p) => !p.competing).map((p) => p.name),
    existingQueues,
    wildcardSubscriptions: [],
  };
}
