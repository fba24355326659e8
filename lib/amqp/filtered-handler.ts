import type { LoggerService } from '@nestjs/common';
import { matchesWords } from '../transport/topic-router.js';
import type { DeliveryHandler, DeliveryOutcome, QueuePlan } from '../transport/broker.js';
import { compileFilterPolicy, type AttributePredicate } from '../transport/filter-policy.js';

const FILTERED: DeliveryOutcome = { kind: 'ack' };

/**
 * Applies each subscription's filterPolicy to the headers of the deliveries its pattern matches, as SNS would
 * before delivery: a message the policy rejects is acked without reaching the handler.
 */
export function withFilterPolicies(plan: QueuePlan, handler: DeliveryHandler, logger: LoggerService): DeliveryHandler {
  const filters = plan.subscriptions
    .filter((s) => s.filterPolicy !== undefined)
    .map((s) => ({
      pattern: s.pattern,
      words: s.pattern.split('.'),
      accepts: compileFilterPolicy(s.filterPolicy!, `@EventPattern('${s.pattern}').filterPolicy`, 'amqp'),
    }));
  if (filters.length === 0) return handler;
  const exact = new Set(plan.subscriptions.map((s) => s.pattern));
  return async (delivery) => {
    const filter = exact.has(delivery.topic)
      ? filters.find((f) => f.pattern === delivery.topic)
      : filters.find((f) => matchesWords(f.words, 0, delivery.topic.split('.'), 0));
    if (filter && !filter.accepts(delivery.attributes)) {
      logger.debug?.(
        `Message ${delivery.messageId} on "${delivery.topic}" does not match the filter policy of ${plan.name}; dropped as SNS would`,
      );
      return FILTERED;
    }
    return handler(delivery);
  };
}

/** Compiles every filter policy of the plans so that an unsupported one fails at startup. */
export function checkFilterPolicies(plans: readonly QueuePlan[]): void {
  for (const plan of plans) {
    for (const s of plan.subscriptions) {
      if (s.filterPolicy !== undefined)
        compileFilterPolicy(s.filterPolicy, `@EventPattern('${s.pattern}').filterPolicy`, 'amqp') satisfies AttributePredicate;
    }
  }
}
