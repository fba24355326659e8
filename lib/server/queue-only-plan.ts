import { SUBSCRIPTION_DEFAULTS, type ResolvedMessagingOptions, type SubscriptionExtras } from '../messaging.options.js';
import type { QueuePlan } from '../transport/broker.js';
import { parseQueueRef } from '../transport/queue-ref.js';
import type { QueuePlanRules } from '../transport/transport-definition.js';

/**
 * The plan of a queue-only handler (`extras.queue`): the existing queue's name (queueNamePrefix on a bare name; the
 * last part of a URL or ARN), competing, FIFO when the transport's name rules say so (SQS: a `.fifo` name), no dead-letter queue of the library's
 * (the queue's own RedrivePolicy, if any, applies). The broker reads the rest from the queue itself.
 */
export function queueOnlyPlan(
  pattern: string,
  extras: SubscriptionExtras & { queue: string },
  options: ResolvedMessagingOptions,
  rules: QueuePlanRules,
): QueuePlan {
  const ref = parseQueueRef(extras.queue, options.queueNamePrefix);
  const existingQueue = ref.kind === 'name' ? ref.name : extras.queue;
  return {
    name: ref.name,
    competing: true,
    fifo: rules.queueNames.isFifoQueueName(ref.name),
    visibilityTimeout: SUBSCRIPTION_DEFAULTS.visibilityTimeout,
    deadLetter: null,
    maxReceiveCount: options.maxReceiveCount,
    retryBackoff: options.retryBackoff,
    concurrency: extras.concurrency ?? rules.defaultConcurrency(options),
    subscriptions: [{ pattern }],
    existingQueue,
  };
}
